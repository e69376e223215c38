//! Modules `cc_ansible` to `cc_disk_setup`: ansible, apk_configure, apt_configure,
//! apt_pipelining, bootcmd, byobu, ca_certs, chef, disable_ec2_metadata and disk_setup,
//! with the shared definitions they own (`ansible.pull`, `apt_configure.mirror`,
//! `ca_certs.properties`).
//!
//! Version facts, from cloud-init's changelog: `ansible.pull` gained `verify_commit`
//! and `inventory` in 24.2 and became a list of pulls (with `playbook_names`) in 25.2;
//! `apt_pipelining` deprecated its `none`/`unchanged` words in 23.4 (cloud-init dates
//! the deprecation 22.4); `chef.chef_license` became a closed list of words in 24.3 and
//! `chef.config_path` appeared in 25.1; a `disk_setup` layout pair accepts a string
//! partition type since 23.1.

use serde_json::json;

use super::super::ty::*;

pub(super) fn modules() -> Vec<Module> {
    vec![
        ansible(),
        apk_configure(),
        apt_configure(),
        apt_pipelining(),
        bootcmd(),
        byobu(),
        ca_certs(),
        chef(),
        disable_ec2_metadata(),
        disk_setup(),
    ]
}

pub(super) fn defs() -> Vec<(&'static str, Ty)> {
    vec![
        ("ansible.pull", ansible_pull()),
        ("apt_configure.mirror", apt_mirror()),
        ("ca_certs.properties", ca_certs_properties()),
    ]
}

// ---------------------------------------------------------------------------------
// cc_ansible

fn ansible() -> Module {
    let pull_note = "Give `pull` as a list of pull entries, even when there is only one.";
    module(
        "cc_ansible",
        "Ansible",
        [prop(
            "ansible",
            obj([
                prop(
                    "install_method",
                    str_enum(["distro", "pip"]),
                    "How to install Ansible: from the distribution's packages or with pip.",
                )
                .default(json!("distro")),
                prop(
                    "run_user",
                    string(),
                    "The user that runs Ansible (and, with `install_method: pip`, the pip install).",
                ),
                prop(
                    "ansible_config",
                    string(),
                    "Path exported as `ANSIBLE_CONFIG`, replacing Ansible's default configuration file.",
                ),
                prop(
                    "setup_controller",
                    obj([
                        prop(
                            "repositories",
                            array(
                                obj([
                                    prop("path", string(), "Where to clone the repository."),
                                    prop("source", string(), "The repository's URL."),
                                ])
                                .closed()
                                .required(["path", "source"]),
                            ),
                            "Git repositories to clone onto this machine before running playbooks.",
                        ),
                        prop(
                            "run_ansible",
                            array(since(
                                // The 22.4 schema gave the item no type (a mapping is checked,
                                // anything else passes); 25.1 requires a mapping. The change is
                                // not in the changelog, so this uses the first oracle that has
                                // it (25.1). The union of every JSON kind stands for "no type"
                                // (a YAML date or set item is still refused, unlike in 22.4).
                                "25.1",
                                run_ansible_item(),
                                union([
                                    run_ansible_item(),
                                    null(),
                                    boolean(),
                                    number(),
                                    string(),
                                    array_any(),
                                ]),
                            )),
                            "`ansible-playbook` runs to perform, each a mapping of its options.",
                        ),
                    ])
                    .closed(),
                    "Make this machine an Ansible controller: clone repositories and run playbooks.",
                ),
                prop(
                    "galaxy",
                    obj([prop(
                        "actions",
                        array(array(
                            // Python's `^.*$`: one line, optionally ended by a newline.
                            pattern("^.*\\n?$"),
                        )),
                        "`ansible-galaxy` commands, each given as its list of arguments.",
                    )])
                    .closed()
                    .required(["actions"]),
                    "Collections or roles to install with `ansible-galaxy` first.",
                ),
                prop(
                    "package_name",
                    string(),
                    "The package (or pip project) that provides Ansible.",
                )
                .default(json!("ansible")),
                prop(
                    "pull",
                    since(
                        "25.2",
                        one_of([
                            array(def("ansible.pull")),
                            def("ansible.pull").deprecated("25.2", pull_note),
                        ]),
                        def("ansible.pull"),
                    ),
                    "Playbooks to fetch from a version-control repository and run with `ansible-pull`.",
                ),
            ])
            .closed(),
            "Install Ansible and run playbooks on this machine during boot.",
        )],
    )
}

/// One `ansible.setup_controller.run_ansible` entry: the options of an
/// `ansible-playbook` run (other keys are not refused).
fn run_ansible_item() -> Ty {
    obj([
        prop("playbook_name", string(), "The playbook file to run."),
        prop("playbook_dir", string(), "The directory that holds the playbook."),
        prop(
            "become_password_file",
            string(),
            "File holding the privilege-escalation password.",
        ),
        prop(
            "connection_password_file",
            string(),
            "File holding the connection password.",
        ),
        prop(
            "list_hosts",
            boolean(),
            "Only list the hosts the playbook would target.",
        )
        .default(json!(false)),
        prop("syntax_check", boolean(), "Only check the playbook's syntax.").default(json!(false)),
        prop("timeout", number_min(0.0), "Connection timeout, in seconds."),
        prop("vault_id", string(), "The vault identity to use."),
        prop(
            "vault_password_file",
            string(),
            "File holding the vault password.",
        ),
        prop(
            "background",
            number_min(0.0),
            "Run tasks asynchronously, failing after this many seconds.",
        ),
        prop("check", boolean(), "Dry run: report changes without making them.").default(json!(false)),
        prop("diff", boolean(), "Show the differences in changed files.").default(json!(false)),
        prop(
            "module_path",
            string(),
            "Extra directories to search for modules.",
        ),
        prop(
            "poll",
            number_min(0.0),
            "Seconds between polls of background tasks.",
        ),
        prop("args", string(), "Arguments for the module."),
        prop(
            "extra_vars",
            string(),
            "Extra variables, as `key=value` words or JSON.",
        ),
        prop("forks", number_min(0.0), "How many hosts to work on in parallel."),
        prop("inventory", string(), "The inventory file or host list."),
        prop("scp_extra_args", string(), "Extra arguments for `scp`."),
        prop("sftp_extra_args", string(), "Extra arguments for `sftp`."),
        prop(
            "private_key",
            string(),
            "The SSH private key file for connections.",
        ),
        prop(
            "connection",
            string(),
            "The connection type, such as `local` or `ssh`.",
        ),
        prop("module_name", string(), "The module to run."),
        prop(
            "sleep",
            string(),
            "Sleep a random time up to this many seconds before starting.",
        ),
        prop("tags", string(), "Only run tasks with these tags."),
        prop("skip_tags", string(), "Skip tasks with these tags."),
    ])
}

/// One `ansible-pull` run. Before 25.2 this was the only form of `ansible.pull`, with
/// a single `playbook_name`; from 25.2 on it is one item of a list and may name several
/// playbooks with `playbook_names`.
fn ansible_pull() -> Ty {
    all_of([
        since(
            "25.2",
            one_of([
                requires(["url", "playbook_name"]),
                requires(["url", "playbook_names"]),
            ]),
            requires(["url", "playbook_name"]),
        ),
        obj([
            prop(
                "accept_host_key",
                boolean(),
                "Add the repository host's key to known hosts if missing.",
            )
            .default(json!(false)),
            prop(
                "clean",
                boolean(),
                "Discard local changes in the checkout before pulling.",
            )
            .default(json!(false)),
            prop("full", boolean(), "Make a full clone instead of a shallow one.").default(json!(false)),
            prop("diff", boolean(), "Show the differences in changed files.").default(json!(false)),
            prop(
                "ssh_common_args",
                string(),
                "Extra arguments for every SSH-based command.",
            ),
            prop("scp_extra_args", string(), "Extra arguments for `scp`."),
            prop("sftp_extra_args", string(), "Extra arguments for `sftp`."),
            prop(
                "private_key",
                string(),
                "The SSH private key file for the repository.",
            ),
            prop("checkout", string(), "The branch, tag or commit to check out."),
            prop(
                "module_path",
                string(),
                "Extra directories to search for modules.",
            ),
            prop(
                "timeout",
                string(),
                "Connection timeout, in seconds (given as a string).",
            ),
            prop("url", string(), "The repository to pull playbooks from."),
            prop("connection", string(), "The connection type, such as `local`."),
            prop("vault_id", string(), "The vault identity to use."),
            prop(
                "vault_password_file",
                string(),
                "File holding the vault password.",
            ),
            prop(
                "verify_commit",
                boolean(),
                "Refuse a checkout whose commit signature does not verify.",
            )
            .default(json!(false))
            .added("24.2"),
            prop("inventory", string(), "The inventory file or host list.").added("24.2"),
            prop("module_name", string(), "The module to run."),
            prop(
                "sleep",
                string(),
                "Sleep a random time up to this many seconds before starting.",
            ),
            prop("tags", string(), "Only run tasks with these tags."),
            prop("skip_tags", string(), "Skip tasks with these tags."),
            prop("playbook_name", string(), "The playbook to run after pulling.")
                .deprecated("25.2", "Use `playbook_names` instead."),
            prop(
                "playbook_names",
                array(string()),
                "The playbooks to run after pulling, in order.",
            )
            .added("25.2"),
        ])
        .closed(),
    ])
}

// ---------------------------------------------------------------------------------
// cc_apk_configure

fn apk_configure() -> Module {
    module(
        "cc_apk_configure",
        "APK Configure",
        [prop(
            "apk_repos",
            obj([
                prop(
                    "preserve_repositories",
                    boolean(),
                    "Keep the image's `/etc/apk/repositories` instead of writing a new one.",
                )
                .default(json!(false)),
                prop(
                    "alpine_repo",
                    union([
                        obj([
                            prop(
                                "base_url",
                                string(),
                                "The mirror to use, without the version part.",
                            )
                            .default(json!("https://dl-cdn.alpinelinux.org/alpine")),
                            prop(
                                "community_enabled",
                                boolean(),
                                "Also enable the `community` repository.",
                            )
                            .default(json!(false)),
                            prop(
                                "testing_enabled",
                                boolean(),
                                "Also enable the `testing` repository.",
                            )
                            .default(json!(false)),
                            prop(
                                "version",
                                string(),
                                "The Alpine release, such as `v3.20` or `edge`.",
                            ),
                        ])
                        .closed()
                        .required(["version"])
                        .min_props(1),
                        null(),
                    ]),
                    "The official Alpine repositories to list.",
                ),
                prop(
                    "local_repo_base_url",
                    string(),
                    "A local repository to list as well, before the official ones.",
                ),
            ])
            .closed()
            .min_props(1),
            "Write Alpine Linux's APK repository list.",
        )],
    )
}

// ---------------------------------------------------------------------------------
// cc_apt_configure

fn apt_configure() -> Module {
    module(
        "cc_apt_configure",
        "Apt Configure",
        [prop(
            "apt",
            obj([
                prop(
                    "preserve_sources_list",
                    boolean(),
                    "Keep the image's sources list; only add the entries of `sources`.",
                )
                .default(json!(false)),
                prop(
                    "generate_mirrorlists",
                    boolean(),
                    "Write mirror lists under `/etc/apt/mirrors` for APT's `mirror+file:` method.",
                )
                .default(json!(false)),
                prop(
                    "disable_suites",
                    array(string()).min_items(1).unique(),
                    "Suites to comment out of the sources list (`updates`, `backports`, `security`, \
                     `proposed`, `release`, or a suite name that may use `$RELEASE`).",
                ),
                prop(
                    "primary",
                    def("apt_configure.mirror"),
                    "The main archive mirror, per architecture.",
                ),
                prop(
                    "security",
                    def("apt_configure.mirror"),
                    "The security archive mirror, per architecture (defaults to `primary`).",
                ),
                prop(
                    "add_apt_repo_match",
                    string(),
                    "Regular expression: sources matching it are added with `add-apt-repository`.",
                )
                .default(json!("^[\\w-]+:\\w")),
                prop(
                    "debconf_selections",
                    obj([]).pattern_props("^.+$", string()).closed().min_props(1),
                    "Answers for `debconf-set-selections`, grouped under names of your choice.",
                ),
                prop(
                    "sources_list",
                    string(),
                    "A template for `sources.list`, where `$MIRROR`, `$RELEASE`, `$PRIMARY`, `$SECURITY` \
                     and `$KEY_FILE` are replaced.",
                ),
                prop(
                    "conf",
                    string(),
                    "Text written as APT configuration (for example proxy settings).",
                ),
                prop("https_proxy", string(), "Proxy for HTTPS downloads."),
                prop("http_proxy", string(), "Proxy for HTTP downloads."),
                prop(
                    "proxy",
                    string(),
                    "Proxy for HTTP downloads (same as `http_proxy`).",
                ),
                prop("ftp_proxy", string(), "Proxy for FTP downloads."),
                prop(
                    "sources",
                    obj([])
                        .pattern_props(
                            "^.+$",
                            obj([
                                prop(
                                    "source",
                                    string(),
                                    "The sources line (or a `ppa:` name); `$MIRROR`, `$RELEASE` and the \
                                     like are replaced.",
                                ),
                                prop("keyid", string(), "Key to import, by id or fingerprint."),
                                prop("key", string(), "Key to import, as an ASCII-armored block."),
                                prop("keyserver", string(), "Keyserver to fetch `keyid` from."),
                                prop(
                                    "filename",
                                    string(),
                                    "The list file to write, instead of the entry's name.",
                                ),
                                prop(
                                    "append",
                                    boolean(),
                                    "Append to the list file instead of replacing it.",
                                )
                                .default(json!(true)),
                            ])
                            .closed()
                            .min_props(1),
                        )
                        .closed(),
                    "Extra APT sources, each named by the list file it goes to.",
                ),
            ])
            .closed()
            .min_props(1),
            "Configure APT: mirrors, extra sources, proxies and debconf answers.",
        )],
    )
}

/// A mirror setting (`apt.primary`, `apt.security`): entries per architecture.
fn apt_mirror() -> Ty {
    array(
        obj([
            prop(
                "arches",
                array(string()).min_items(1),
                "Architectures this entry is for; `default` covers the rest.",
            ),
            prop("uri", format(Format::Uri), "The mirror's URL."),
            prop(
                "search",
                array(format(Format::Uri)).min_items(1),
                "Mirrors to try in order; the first that resolves is used.",
            ),
            prop(
                "search_dns",
                boolean(),
                "Look up `<distro>-mirror` host names in the local domains.",
            ),
            prop("keyid", string(), "Key to import, by id or fingerprint."),
            prop("key", string(), "Key to import, as an ASCII-armored block."),
            prop("keyserver", string(), "Keyserver to fetch `keyid` from."),
        ])
        .closed()
        .required(["arches"]),
    )
    .min_items(1)
}

// ---------------------------------------------------------------------------------
// cc_apt_pipelining

fn apt_pipelining() -> Module {
    module(
        "cc_apt_pipelining",
        "Apt Pipelining",
        [prop(
            "apt_pipelining",
            one_of([
                int(),
                boolean(),
                since(
                    "23.4",
                    all_of([
                        one_of([
                            lit([json!("os")]),
                            lit([json!("none"), json!("unchanged")]).deprecated("22.4", "Use `os` instead."),
                        ]),
                        string(),
                    ]),
                    str_enum(["none", "unchanged", "os"]),
                ),
            ]),
            "HTTP pipelining depth for APT: a number, `false` to turn it off, or `os` to leave \
             the distribution's setting.",
        )
        .default(json!("os"))],
    )
}

// ---------------------------------------------------------------------------------
// cc_bootcmd

fn bootcmd() -> Module {
    module(
        "cc_bootcmd",
        "Bootcmd",
        [prop(
            "bootcmd",
            array(one_of([array(string()), string()])).min_items(1),
            "Commands run early on every boot: a string for the shell, or a list of arguments.",
        )],
    )
}

// ---------------------------------------------------------------------------------
// cc_byobu

fn byobu() -> Module {
    module(
        "cc_byobu",
        "Byobu",
        [prop(
            "byobu_by_default",
            str_enum([
                "enable-system",
                "enable-user",
                "disable-system",
                "disable-user",
                "enable",
                "disable",
                "user",
                "system",
            ]),
            "Turn byobu on or off at login, for the default user, for all users, or both.",
        )],
    )
}

// ---------------------------------------------------------------------------------
// cc_ca_certs

fn ca_certs() -> Module {
    module(
        "cc_ca_certs",
        "CA Certificates",
        [
            prop(
                "ca-certs",
                def("ca_certs.properties"),
                "Old spelling of `ca_certs`.",
            )
            .deprecated("22.3", "Use `ca_certs` instead."),
            prop(
                "ca_certs",
                def("ca_certs.properties"),
                "Add trusted CA certificates, optionally dropping the distribution's.",
            ),
        ],
    )
}

fn ca_certs_properties() -> Ty {
    obj([
        prop("remove-defaults", boolean(), "Old spelling of `remove_defaults`.")
            .deprecated("22.3", "Use `remove_defaults` instead."),
        prop(
            "remove_defaults",
            boolean(),
            "Distrust every CA certificate the distribution ships.",
        )
        .default(json!(false)),
        prop(
            "trusted",
            array(string()).min_items(1),
            "PEM certificates to add to the trusted store.",
        ),
    ])
    .closed()
    .min_props(1)
}

// ---------------------------------------------------------------------------------
// cc_chef

fn chef() -> Module {
    module(
        "cc_chef",
        "Chef",
        [prop(
            "chef",
            obj([
                prop(
                    "directories",
                    array(string()).min_items(1).unique(),
                    "Directories to create for Chef.",
                ),
                prop(
                    "config_path",
                    string(),
                    "Where to write the client configuration.",
                )
                .default(json!("/etc/chef/client.rb"))
                .added("25.1"),
                prop(
                    "validation_cert",
                    string(),
                    "The validation key's content, written to `validation_key`; `system` keeps an \
                     existing file.",
                ),
                prop("validation_key", string(), "Where the validation key is written.")
                    .default(json!("/etc/chef/validation.pem")),
                prop(
                    "firstboot_path",
                    string(),
                    "Where the first-run JSON (run list and attributes) is written.",
                )
                .default(json!("/etc/chef/firstboot.json")),
                prop(
                    "exec",
                    boolean(),
                    "Run `chef-client` now (the default for gem installs).",
                )
                .default(json!(false)),
                prop("client_key", string(), "Where the client key is kept.")
                    .default(json!("/etc/chef/client.pem")),
                prop(
                    "encrypted_data_bag_secret",
                    string(),
                    "Path of the secret that decrypts encrypted data bags.",
                ),
                prop("environment", string(), "The Chef environment of this node.")
                    .default(json!("_default")),
                prop(
                    "file_backup_path",
                    string(),
                    "Where Chef keeps backups of replaced files.",
                )
                .default(json!("/var/chef/backup")),
                prop("file_cache_path", string(), "Where Chef keeps its cache.")
                    .default(json!("/var/chef/cache")),
                prop(
                    "json_attribs",
                    string(),
                    "The JSON attributes file given to `chef-client`.",
                )
                .default(json!("/etc/chef/firstboot.json")),
                prop("log_level", string(), "Chef's log level, such as `:info`.").default(json!(":info")),
                prop("log_location", string(), "Chef's log file.").default(json!("/var/log/chef/client.log")),
                prop(
                    "node_name",
                    string(),
                    "The node's name (default: the instance id).",
                ),
                prop("omnibus_url", string(), "Installer script for omnibus installs.")
                    .default(json!("https://www.chef.io/chef/install.sh")),
                prop(
                    "omnibus_url_retries",
                    int(),
                    "How many times to retry fetching the installer.",
                )
                .default(json!(5)),
                prop(
                    "omnibus_version",
                    string(),
                    "The Chef version the omnibus installer installs.",
                ),
                prop("pid_file", string(), "Where `chef-client` writes its process id.")
                    .default(json!("/var/run/chef/client.pid")),
                prop("server_url", string(), "The Chef server's URL."),
                prop("show_time", boolean(), "Print times in Chef's log.").default(json!(true)),
                prop(
                    "ssl_verify_mode",
                    string(),
                    "HTTPS certificate checking: `:verify_none` or `:verify_peer`.",
                )
                .default(json!(":verify_none")),
                prop(
                    "validation_name",
                    string(),
                    "The validator client name used for the first contact with the server.",
                ),
                prop(
                    "force_install",
                    boolean(),
                    "Install Chef even when it is already present.",
                )
                .default(json!(false)),
                prop(
                    "initial_attributes",
                    obj([]),
                    "Node attributes for the first run.",
                ),
                prop(
                    "install_type",
                    str_enum(["packages", "gems", "omnibus"]),
                    "How to install Chef.",
                )
                .default(json!("packages")),
                prop(
                    "run_list",
                    array(string()),
                    "Recipes and roles for the first run.",
                ),
                prop(
                    "chef_license",
                    since(
                        "24.3",
                        str_enum(["accept", "accept-silent", "accept-no-persist"]),
                        string(),
                    ),
                    "Accept Chef's license, written to the client configuration.",
                ),
            ])
            .closed()
            .min_props(1),
            "Install and configure the Chef Infra client, and optionally run it.",
        )],
    )
}

// ---------------------------------------------------------------------------------
// cc_disable_ec2_metadata

fn disable_ec2_metadata() -> Module {
    module(
        "cc_disable_ec2_metadata",
        "Disable EC2 Metadata",
        [prop(
            "disable_ec2_metadata",
            boolean(),
            "Block access to the EC2 metadata service (169.254.169.254) with a null route.",
        )
        .default(json!(false))],
    )
}

// ---------------------------------------------------------------------------------
// cc_disk_setup

fn disk_setup() -> Module {
    let layout_pair = array(since("23.1", any_of([int(), string()]), int()))
        .min_items(2)
        .max_items(2);
    module(
        "cc_disk_setup",
        "Disk Setup",
        [
            prop(
                "device_aliases",
                obj([]).pattern_props("^.+$", string()).closed(),
                "Short names for disk devices, usable in `disk_setup` and `fs_setup`.",
            ),
            prop(
                "disk_setup",
                obj([])
                    .pattern_props(
                        "^.+$",
                        obj([
                            prop(
                                "table_type",
                                str_enum(["mbr", "gpt"]),
                                "The partition table type.",
                            )
                            .default(json!("mbr")),
                            prop(
                                "layout",
                                one_of([
                                    str_enum(["remove"]),
                                    boolean(),
                                    array(one_of([int(), layout_pair])),
                                ]),
                                "`true` for one partition over the disk, `remove` to wipe the table, or a \
                                 list of partitions: a percentage, or a percentage and a partition type.",
                            )
                            .default(json!(false)),
                            prop(
                                "overwrite",
                                boolean(),
                                "Partition even when the disk already has a table (destroys data).",
                            )
                            .default(json!(false)),
                        ])
                        .closed(),
                    )
                    .closed(),
                "Partition tables to create, per device path or alias.",
            ),
            prop(
                "fs_setup",
                array(
                    obj([
                        prop("label", string(), "The filesystem label."),
                        prop("filesystem", string(), "The filesystem type, such as `ext4`."),
                        prop(
                            "device",
                            string(),
                            "The device path or alias; `alias.N` names its partition N.",
                        ),
                        prop(
                            "partition",
                            all_of([
                                union([string(), int()]),
                                one_of([str_enum(["auto", "any", "none"])]),
                            ]),
                            "Which partition to use: `auto`, `any` or `none`.",
                        ),
                        prop(
                            "overwrite",
                            boolean(),
                            "Create the filesystem even over an existing one (destroys data).",
                        ),
                        prop(
                            "replace_fs",
                            string(),
                            "With `partition: auto` or `any`: a filesystem type that may be replaced.",
                        ),
                        prop(
                            "extra_opts",
                            union([array(string()), string()]),
                            "Extra options for the filesystem creation command.",
                        ),
                        prop(
                            "cmd",
                            union([array(string()), string()]),
                            "A command that replaces the default filesystem creation command.",
                        ),
                    ])
                    .closed(),
                ),
                "Filesystems to create.",
            ),
        ],
    )
}
