//! Modules U to Z: `cc_ubuntu_autoinstall`, `cc_ubuntu_drivers`, `cc_ubuntu_pro`
//! (once `cc_ubuntu_advantage`), `cc_update_etc_hosts`, `cc_update_hostname`,
//! `cc_users_groups`, `cc_wireguard`, `cc_write_files`, `cc_yum_add_repo` and
//! `cc_zypper_add_repo`, with the shared definitions `ubuntu_pro.properties`,
//! `users_groups.user` and `users_groups.groups_by_groupname`.
//!
//! Version facts, from cloud-init's changelog:
//! - 22.3: `manage_etc_hosts: template` changed meaning (use `true`); a user's `uid`
//!   as a string and `lock-passwd` are deprecated; `sudo: false` changed in 22.2.
//! - 23.1: a user's `groups` given as a mapping is deprecated (22.4 already reported
//!   it, without a version).
//! - 23.2: `users: []` is accepted ("create no users"); 22.4 wanted at least one item.
//! - 23.3: a user's `doas` rules (#4363).
//! - 23.4: `create_hostname_file` (#4330).
//! - 24.1: `ubuntu_pro` replaces `ubuntu_advantage`, which is deprecated.
//! - 24.2: the hyphenated user keys (`no-create-home`, `ssh-authorized-keys`, ...) are
//!   accepted and reported as deprecated (#5456, #5162); before, the schema refused
//!   them. `sudo` may be a list of rules (#5418). `yum_repos.*.metalink` (#5444).
//! - 24.3: `write_files.*.source` (#5505); `yum_repos.*.mirrorlist` (#5522) and a repo
//!   needs one of `baseurl`, `metalink` or `mirrorlist` instead of `baseurl` (#5501).

use serde_json::json;

use super::super::ty::*;

pub(super) fn modules() -> Vec<Module> {
    vec![
        ubuntu_autoinstall(),
        ubuntu_drivers(),
        ubuntu_pro(),
        update_etc_hosts(),
        update_hostname(),
        users_groups(),
        wireguard(),
        write_files(),
        yum_add_repo(),
        zypper_add_repo(),
    ]
}

pub(super) fn defs() -> Vec<(&'static str, Ty)> {
    vec![
        ("ubuntu_pro.properties", ubuntu_pro_properties()),
        ("users_groups.user", user()),
        ("users_groups.groups_by_groupname", groups_by_groupname()),
    ]
}

fn ubuntu_autoinstall() -> Module {
    module(
        "cc_ubuntu_autoinstall",
        "Ubuntu Autoinstall",
        [prop(
            "autoinstall",
            obj([prop(
                "version",
                int(),
                "Version of the autoinstall format (currently 1).",
            )])
            .required(["version"]),
            "Answers for Subiquity, the Ubuntu server installer. cloud-init passes them on untouched and only checks that `version` is there.",
        )],
    )
}

fn ubuntu_drivers() -> Module {
    let nvidia = obj([
        prop(
            "license-accepted",
            boolean(),
            "Whether you accept the NVIDIA driver licence; nothing is installed unless it is `true`.",
        ),
        prop(
            "version",
            string(),
            "Driver series to install, such as `\"535\"` (a string). Default: the newest one.",
        ),
    ])
    .closed()
    .required(["license-accepted"]);
    module(
        "cc_ubuntu_drivers",
        "Ubuntu Drivers",
        [prop(
            "drivers",
            obj([prop(
                "nvidia",
                nvidia,
                "Install the NVIDIA graphics driver with `ubuntu-drivers`.",
            )])
            .closed(),
            "Third-party hardware drivers to install on Ubuntu.",
        )],
    )
}

/// A proxy URL, or null to remove the setting.
fn proxy() -> Ty {
    union([format(Format::Uri), null()])
}

fn ubuntu_pro_properties() -> Ty {
    let features = obj([prop(
        "disable_auto_attach",
        boolean(),
        "Skip the automatic attachment that Ubuntu Pro cloud images attempt at each boot.",
    )
    .default(json!(false))])
    .closed();
    let config = obj([
        prop("http_proxy", proxy(), "HTTP proxy for the Pro client itself."),
        prop("https_proxy", proxy(), "HTTPS proxy for the Pro client itself."),
        prop(
            "global_apt_http_proxy",
            proxy(),
            "HTTP proxy for every APT repository of the system.",
        ),
        prop(
            "global_apt_https_proxy",
            proxy(),
            "HTTPS proxy for every APT repository of the system.",
        ),
        prop(
            "ua_apt_http_proxy",
            proxy(),
            "HTTP proxy for the Ubuntu Pro APT repositories only.",
        ),
        prop(
            "ua_apt_https_proxy",
            proxy(),
            "HTTPS proxy for the Ubuntu Pro APT repositories only.",
        ),
    ]);
    obj([
        prop(
            "enable",
            array(string()),
            "Services to enable, such as `esm-infra`, `fips` or `livepatch`. When given on a Pro image, only these are enabled.",
        ),
        prop(
            "enable_beta",
            array(string()),
            "Beta services to enable in addition.",
        ),
        prop(
            "token",
            string(),
            "Contract token to attach the machine with (not needed on Ubuntu Pro cloud images).",
        ),
        prop("features", features, "Switches of the Pro client."),
        prop(
            "config",
            config,
            "Settings written to the Pro client's configuration, proxies among them; other keys pass through.",
        ),
    ])
    .closed()
}

fn ubuntu_pro() -> Module {
    module(
        "cc_ubuntu_pro",
        "Ubuntu Pro",
        [
            prop(
                "ubuntu_pro",
                def("ubuntu_pro.properties"),
                "Attach the machine to Ubuntu Pro and choose the services to enable.",
            )
            .added("24.1"),
            prop(
                "ubuntu_advantage",
                def("ubuntu_pro.properties"),
                "The former name of `ubuntu_pro`, with the same content.",
            )
            .deprecated("24.1", "Use `ubuntu_pro` instead."),
        ],
    )
}

fn update_etc_hosts() -> Module {
    module(
        "cc_update_etc_hosts",
        "Update Etc Hosts",
        [
            prop(
                "manage_etc_hosts",
                one_of([
                    lit([json!(true), json!(false), json!("localhost")]),
                    lit([json!("template")])
                        .changed("22.3", "Use `true` instead of `template`."),
                ]),
                "Manage `/etc/hosts`: `true` renders it from cloud-init's template at every boot, `localhost` only adds a `127.0.1.1` line for the host's names, `false` leaves it alone.",
            )
            .default(json!(false)),
            prop(
                "fqdn",
                string(),
                "Fully qualified domain name written to `/etc/hosts`; preferred over `hostname`.",
            ),
            prop(
                "hostname",
                string(),
                "Host name written to `/etc/hosts` when no `fqdn` is given.",
            ),
        ],
    )
}

fn update_hostname() -> Module {
    module(
        "cc_update_hostname",
        "Update Hostname",
        [
            prop(
                "preserve_hostname",
                boolean(),
                "Keep the system's host name as it is at every boot.",
            )
            .default(json!(false)),
            prop(
                "prefer_fqdn_over_hostname",
                boolean(),
                "Use the fully qualified name rather than the short one as the host name (the default depends on the distribution).",
            ),
            prop(
                "create_hostname_file",
                boolean(),
                "Create the host name file (e.g. `/etc/hostname`) when missing; with `false` the name is set only transiently.",
            )
            .added("23.4")
            .default(json!(true)),
        ],
    )
}

// -------------------------------------------------------------------------------
// Users and groups

/// A group mapping: group name → one member or a non-empty list of members. It has
/// no type of its own in cloud-init's schema; here it is the object member of the
/// type lists that use it.
fn groups_by_groupname() -> Ty {
    obj([])
        .closed()
        .pattern_props("^.+$", union([string(), array(string()).min_items(1)]))
}

/// A boolean user key.
fn flag(name: &'static str, doc: &'static str) -> Prop {
    prop(name, boolean(), doc)
}

/// The hyphenated spelling of a user key, known to the schema from 24.2 on and
/// deprecated then (22.4 refuses it as an unknown key).
fn hyphenated(name: &'static str, ty: Ty, note: &'static str) -> Prop {
    prop(name, ty, "The old hyphenated spelling of this key.")
        .added("24.2")
        .deprecated("24.2", note)
}

/// A non-empty list of strings.
fn strings1() -> Ty {
    array(string()).min_items(1)
}

fn user() -> Ty {
    let groups = one_of([
        string(),
        strings1(),
        obj([]).pattern_props(
            "^.+$",
            // 22.4 marked this form deprecated without a version; 23.1 gave it one.
            since(
                "23.1",
                null().deprecated("23.1", "List the groups as a string or a list instead."),
                null().deprecated("22.4", "List the groups as a string or a list instead."),
            ),
        ),
    ]);
    let sudo = one_of([
        union([string(), null()]),
        array(union([string(), null()])).added("24.2"),
        boolean().changed("22.2", "Use `null` rather than `false` for no sudo rule."),
    ]);
    let uid = one_of([int(), string().changed("22.3", "Give the user ID as an integer.")]);
    let props = obj([
        prop(
            "name",
            string(),
            "Login name. A user without one (and without `snapuser`) is not created.",
        ),
        prop(
            "doas",
            strings1(),
            "`doas` rules for the user (doas or opendoas must be installed).",
        )
        .added("23.3"),
        prop(
            "expiredate",
            format(Format::Date),
            "Day the account expires, as a quoted `YYYY-MM-DD` string.",
        ),
        prop(
            "gecos",
            string(),
            "Comment field, usually the real name and contact details.",
        ),
        prop(
            "groups",
            groups,
            "Extra groups for the user: a comma-separated string or a list of names.",
        ),
        prop(
            "homedir",
            string(),
            "Home directory. Default: `/home/<name>`.",
        ),
        prop(
            "inactive",
            string(),
            "Days after the password expires until the account is disabled, as a string.",
        ),
        prop("lock-passwd", boolean(), "The old spelling of `lock_passwd`.")
            .deprecated("22.3", "Use `lock_passwd` instead."),
        flag(
            "lock_passwd",
            "Lock the password, so that it cannot be used to log in.",
        )
        .default(json!(true)),
        hyphenated(
            "no-create-home",
            boolean(),
            "Use `no_create_home` instead.",
        ),
        flag("no_create_home", "Do not create a home directory.").default(json!(false)),
        hyphenated("no-log-init", boolean(), "Use `no_log_init` instead."),
        flag(
            "no_log_init",
            "Do not add the user to the lastlog and faillog databases.",
        )
        .default(json!(false)),
        hyphenated("no-user-group", boolean(), "Use `no_user_group` instead."),
        flag(
            "no_user_group",
            "Do not create a group named after the user.",
        )
        .default(json!(false)),
        prop(
            "passwd",
            string(),
            "Password hash, applied only when the user is created.",
        ),
        hyphenated("hashed-passwd", string(), "Use `hashed_passwd` instead."),
        prop(
            "hashed_passwd",
            string(),
            "Password hash, applied even to an existing user (make one with `mkpasswd --method=SHA-512`).",
        ),
        hyphenated(
            "plain-text-passwd",
            string(),
            "Use `plain_text_passwd` instead.",
        ),
        prop(
            "plain_text_passwd",
            string(),
            "Clear-text password, applied even to an existing user. Prefer a hash or SSH keys.",
        ),
        hyphenated("create-groups", boolean(), "Use `create_groups` instead."),
        flag(
            "create_groups",
            "Create the groups listed in `groups` when they do not exist.",
        )
        .default(json!(true)),
        hyphenated("primary-group", string(), "Use `primary_group` instead."),
        prop(
            "primary_group",
            string(),
            "Primary group. Default: a group named after the user.",
        ),
        hyphenated("selinux-user", string(), "Use `selinux_user` instead."),
        prop(
            "selinux_user",
            string(),
            "SELinux user for the user's logins.",
        ),
        prop("shell", string(), "Login shell, as a path such as `/bin/bash`."),
        prop(
            "snapuser",
            string(),
            "E-mail address of an Ubuntu SSO account to create the user from with `snap create-user`.",
        ),
        prop(
            "ssh_authorized_keys",
            strings1(),
            "Public SSH keys allowed to log in as the user.",
        ),
        prop(
            "ssh-authorized-keys",
            strings1(),
            "The old hyphenated spelling of `ssh_authorized_keys`.",
        )
        .added("24.2")
        .deprecated("18.3", "Use `ssh_authorized_keys` instead."),
        hyphenated("ssh-import-id", strings1(), "Use `ssh_import_id` instead."),
        prop(
            "ssh_import_id",
            strings1(),
            "Key server ids (e.g. `gh:octocat`, `lp:someone`) whose SSH keys `ssh-import-id` fetches for the user.",
        ),
        hyphenated(
            "ssh-redirect-user",
            boolean(),
            "Use `ssh_redirect_user` instead.",
        ),
        flag(
            "ssh_redirect_user",
            "Install the cloud's SSH keys for this user disabled, with a message naming the default user to log in as instead.",
        )
        .default(json!(false)),
        flag(
            "system",
            "Create a system account, without a home directory.",
        )
        .default(json!(false)),
        prop(
            "sudo",
            sudo,
            "Sudo rule(s) for the user, such as `ALL=(ALL) NOPASSWD:ALL`; `null` for none.",
        ),
        prop("uid", uid, "Numeric user ID."),
    ])
    .closed();
    all_of([props, one_of([requires(["name"]), requires(["snapuser"])])])
}

fn users_groups() -> Module {
    let users_item = one_of([string(), array(string()), def("users_groups.user")]);
    module(
        "cc_users_groups",
        "Users and Groups",
        [
            prop(
                "groups",
                union([
                    string(),
                    groups_by_groupname(),
                    array(union([string(), groups_by_groupname()])).min_items(1),
                ]),
                "Groups to create: a comma-separated string, a list of names, or a mapping of group name to its members.",
            ),
            prop(
                "user",
                one_of([string(), def("users_groups.user")]),
                "The default user: a name, or settings that override the distribution's `default_user`.",
            ),
            prop(
                "users",
                since(
                    "23.2",
                    union([string(), array(users_item.clone()), obj([])]),
                    union([string(), array(users_item).min_items(1), obj([])]),
                ),
                "Users to create. List items are a user's settings, a name, or `default` for the distribution's default user; an empty list creates none.",
            ),
        ],
    )
}

// -------------------------------------------------------------------------------

fn wireguard() -> Module {
    let interface = obj([
        prop("name", string(), "Interface name, such as `wg0`."),
        prop(
            "config_path",
            string(),
            "Where to write the interface's configuration file.",
        ),
        prop(
            "content",
            string(),
            "The WireGuard configuration (keys, peers, addresses).",
        ),
    ])
    .closed();
    module(
        "cc_wireguard",
        "Wireguard",
        [prop(
            "wireguard",
            union([
                null(),
                obj([
                    prop(
                        "interfaces",
                        array(interface).min_items(1),
                        "WireGuard interfaces to configure and bring up.",
                    ),
                    prop(
                        "readinessprobe",
                        array(string()).unique(),
                        "Shell commands run afterwards to check that the tunnels work.",
                    ),
                ])
                .closed()
                .required(["interfaces"])
                .min_props(1),
            ]),
            "WireGuard tunnels to set up.",
        )],
    )
}

fn write_files() -> Module {
    let source = obj([
        prop(
            "uri",
            format(Format::Uri),
            "Where to download the content from; `content` is the fallback when that fails.",
        ),
        prop(
            "headers",
            map_of(string()),
            "HTTP headers to send with the request.",
        ),
    ])
    .closed()
    .required(["uri"]);
    let file = obj([
        prop("path", string(), "Absolute path of the file to write."),
        prop(
            "content",
            string(),
            "Content of the file, decoded according to `encoding`.",
        )
        .default(json!("")),
        prop("source", source, "Download the content from a URI instead.").added("24.3"),
        prop(
            "owner",
            string(),
            "`user:group` owning the file and the directories created for it.",
        )
        .default(json!("root:root")),
        prop(
            "permissions",
            string(),
            "File mode as a quoted octal string such as `'0644'` (an unquoted 0644 is a YAML integer).",
        )
        .default(json!("0o644")),
        prop(
            "encoding",
            str_enum([
                "gz",
                "gzip",
                "gz+base64",
                "gzip+base64",
                "gz+b64",
                "gzip+b64",
                "b64",
                "base64",
                "text/plain",
            ]),
            "How `content` is encoded: gzip and/or base64, or `text/plain` for as-is.",
        )
        .default(json!("text/plain")),
        prop("append", boolean(), "Append to the file instead of replacing it.").default(json!(false)),
        prop(
            "defer",
            boolean(),
            "Write the file in the final stage, after users and packages exist.",
        )
        .default(json!(false)),
    ])
    .closed()
    .required(["path"]);
    module(
        "cc_write_files",
        "Write Files",
        [prop(
            "write_files",
            array(file).min_items(1),
            "Files to write on first boot.",
        )],
    )
}

/// One yum repository. Before 24.3 it needed a `baseurl`; from then on any of
/// `baseurl`, `metalink` or `mirrorlist` will do.
fn yum_repo(since_24_3: bool) -> Ty {
    let repo = obj([
        prop(
            "baseurl",
            format(Format::Uri),
            "URL of the directory holding the repository's `repodata`.",
        ),
        prop(
            "metalink",
            format(Format::Uri),
            "URL of a metalink file for `repomd.xml`.",
        )
        .added("24.2"),
        prop(
            "mirrorlist",
            format(Format::Uri),
            "URL of a file listing mirror base URLs.",
        )
        .added("24.3"),
        prop("name", string(), "Human-readable name of the repository."),
        prop("enabled", boolean(), "Whether the repository is enabled.").default(json!(true)),
    ])
    .closed()
    .pattern_props("^[0-9a-zA-Z_]+$", one_of([int(), boolean(), string()]));
    if since_24_3 {
        all_of([
            repo,
            any_of([
                requires(["baseurl"]),
                requires(["metalink"]),
                requires(["mirrorlist"]),
            ]),
        ])
    } else {
        repo.required(["baseurl"])
    }
}

fn yum_add_repo() -> Module {
    module(
        "cc_yum_add_repo",
        "Yum Add Repo",
        [
            prop(
                "yum_repo_dir",
                string(),
                "Directory the `.repo` files are written to.",
            )
            .default(json!("/etc/yum.repos.d")),
            prop(
                "yum_repos",
                obj([]).closed().min_props(1).pattern_props(
                    "^[0-9a-zA-Z -_]+$",
                    since("24.3", yum_repo(true), yum_repo(false)),
                ),
                "Yum repositories by id (the `.repo` file's name). Other options of `yum.conf` may be given as scalars.",
            ),
        ],
    )
}

fn zypper_add_repo() -> Module {
    let repo = obj([
        prop(
            "id",
            string(),
            "Unique id of the repository, naming its `.repo` file.",
        ),
        prop("baseurl", format(Format::Uri), "Base URL of the repository."),
    ])
    .required(["id", "baseurl"]);
    module(
        "cc_zypper_add_repo",
        "Zypper Add Repo",
        [prop(
            "zypper",
            obj([
                prop(
                    "repos",
                    array(repo).min_items(1),
                    "Repositories to add; other keys of each are written to its `.repo` file.",
                ),
                prop("config", obj([]), "Settings written to `/etc/zypp/zypp.conf`."),
            ])
            .min_props(1),
            "Zypper repositories and configuration (SUSE).",
        )],
    )
}
