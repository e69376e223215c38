//! Modules R to T: `cc_raspberry_pi`, `cc_resizefs`, `cc_resolv_conf`,
//! `cc_rh_subscription`, `cc_rsyslog`, `cc_runcmd`, `cc_salt_minion`,
//! `cc_scripts_vendor`, `cc_seed_random`, `cc_set_hostname`, `cc_set_passwords`,
//! `cc_snap`, `cc_spacewalk`, `cc_ssh`, `cc_ssh_authkey_fingerprints`,
//! `cc_ssh_import_id` and `cc_timezone`.
//!
//! Version facts, from cloud-init's changelog:
//! - 23.3: `rsyslog` learns `install_rsyslog`, `check_exe` and `packages` (#4119).
//! - 23.4: `create_hostname_file` (set_hostname).
//! - 24.1: DSA host keys are gone from `ssh_keys` and `ssh_genkeytypes` (#4456).
//! - 24.2: `rh_subscription.org` accepts a string; an integer is deprecated (#5453).
//! - 25.2: `rpi` (cc_raspberry_pi, #5827); 26.1 replaced rpi-connect by `enable_usb_gadget`.
//! - 25.3: `rh_subscription` gets underscore spellings of its hyphenated keys (the
//!   hyphenated ones are deprecated, and both spellings of one key together are an
//!   error) and `release_version` (#6347).

use serde_json::json;

use super::super::ty::*;

pub(super) fn modules() -> Vec<Module> {
    vec![
        raspberry_pi(),
        resizefs(),
        resolv_conf(),
        rh_subscription(),
        rsyslog(),
        runcmd(),
        salt_minion(),
        scripts_vendor(),
        seed_random(),
        set_hostname(),
        set_passwords(),
        snap(),
        spacewalk(),
        ssh_authkey_fingerprints(),
        ssh_import_id(),
        ssh(),
        timezone(),
    ]
}

pub(super) fn defs() -> Vec<(&'static str, Ty)> {
    vec![
        ("rh_subscription.activation_key", string()),
        ("rh_subscription.auto_attach", boolean()),
        ("rh_subscription.service_level", string()),
        ("rh_subscription.add_pool", array(string())),
        ("rh_subscription.enable_repo", array(string())),
        ("rh_subscription.disable_repo", array(string())),
        ("rh_subscription.rhsm_baseurl", string()),
        ("rh_subscription.server_hostname", string()),
    ]
}

fn raspberry_pi() -> Module {
    let serial = one_of([
        boolean(),
        obj([
            prop("console", boolean(), "Give the serial port a login console.").default(json!(false)),
            prop("hardware", boolean(), "Enable the serial port hardware (UART).").default(json!(false)),
        ]),
    ]);
    // 25.2 to 26.0 also knew `interfaces.remote_gpio` and `enable_rpi_connect`; `rpi`
    // is an open object, so they were never refused and are not modelled here.
    let interfaces = obj([
        prop("spi", boolean(), "Enable the SPI bus.").default(json!(false)),
        prop("i2c", boolean(), "Enable the I2C bus.").default(json!(false)),
        prop(
            "serial",
            serial,
            "Enable the serial port: `true`/`false` for both console and hardware, or a mapping to set each.",
        )
        .default(json!(false)),
        prop("onewire", boolean(), "Enable the 1-Wire bus.").default(json!(false)),
    ]);
    module(
        "cc_raspberry_pi",
        "Raspberry Pi",
        [prop(
            "rpi",
            obj([
                prop(
                    "interfaces",
                    interfaces,
                    "Hardware interfaces of the board to switch on (through `raspi-config`).",
                ),
                prop(
                    "enable_usb_gadget",
                    boolean(),
                    "Let the board act as a USB network device when plugged into a host.",
                )
                .added("26.1")
                .default(json!(false)),
            ]),
            "Raspberry Pi OS settings: interfaces and USB gadget mode.",
        )
        .added("25.2")],
    )
}

fn resizefs() -> Module {
    module(
        "cc_resizefs",
        "Resizefs",
        [prop(
            "resize_rootfs",
            lit([json!(true), json!(false), json!("noblock")]),
            "Grow the root filesystem to fill its partition: `true`, `false`, or `noblock` to resize in the background.",
        )
        .default(json!(true))],
    )
}

fn resolv_conf() -> Module {
    module(
        "cc_resolv_conf",
        "Resolv Conf",
        [
            prop(
                "manage_resolv_conf",
                boolean(),
                "Write `/etc/resolv.conf` from `resolv_conf`.",
            )
            .default(json!(false)),
            prop(
                "resolv_conf",
                obj([
                    prop("nameservers", array_any(), "DNS servers to query, in order."),
                    prop("searchdomains", array_any(), "Domains to append to short names."),
                    prop("domain", string(), "The local domain name."),
                    prop(
                        "sortlist",
                        array_any(),
                        "Address/netmask pairs to prefer in answers.",
                    ),
                    prop(
                        "options",
                        obj([]),
                        "Resolver options, such as `rotate: true` or `timeout: 1`.",
                    ),
                ])
                .closed(),
                "The contents of `/etc/resolv.conf` (used when `manage_resolv_conf` is true).",
            ),
        ],
    )
}

fn rh_subscription() -> Module {
    // Each setting under its hyphenated name (all releases; deprecated from 25.3) and its
    // underscore name (25.3 on), sharing one definition.
    let pair = |new: &'static str,
                old: &'static str,
                def_name: &'static str,
                doc: &'static str,
                note: &'static str| {
        [
            prop(new, def(def_name), doc).added("25.3"),
            prop(old, def(def_name), doc).deprecated("25.3", note),
        ]
    };
    let [activation_key, activation_key_old] = pair(
        "activation_key",
        "activation-key",
        "rh_subscription.activation_key",
        "Activation key to register with (needs `org`).",
        "Use `activation_key` instead.",
    );
    let [auto_attach, auto_attach_old] = pair(
        "auto_attach",
        "auto-attach",
        "rh_subscription.auto_attach",
        "Attach the best-matching subscriptions automatically after registering.",
        "Use `auto_attach` instead.",
    );
    let [service_level, service_level_old] = pair(
        "service_level",
        "service-level",
        "rh_subscription.service_level",
        "Service level to ask for when auto-attaching, e.g. `self-support`.",
        "Use `service_level` instead.",
    );
    let [add_pool, add_pool_old] = pair(
        "add_pool",
        "add-pool",
        "rh_subscription.add_pool",
        "Subscription pool IDs to attach.",
        "Use `add_pool` instead.",
    );
    let [enable_repo, enable_repo_old] = pair(
        "enable_repo",
        "enable-repo",
        "rh_subscription.enable_repo",
        "Repository IDs to enable.",
        "Use `enable_repo` instead.",
    );
    let [disable_repo, disable_repo_old] = pair(
        "disable_repo",
        "disable-repo",
        "rh_subscription.disable_repo",
        "Repository IDs to disable.",
        "Use `disable_repo` instead.",
    );
    let [rhsm_baseurl, rhsm_baseurl_old] = pair(
        "rhsm_baseurl",
        "rhsm-baseurl",
        "rh_subscription.rhsm_baseurl",
        "Base URL of the content server, written to `rhsm.conf`.",
        "Use `rhsm_baseurl` instead.",
    );
    let [server_hostname, server_hostname_old] = pair(
        "server_hostname",
        "server-hostname",
        "rh_subscription.server_hostname",
        "Host name of the subscription server, written to `rhsm.conf`.",
        "Use `server_hostname` instead.",
    );
    let settings = obj([
        prop(
            "username",
            string(),
            "Red Hat account user name (with `password`).",
        ),
        prop("password", string(), "Red Hat account password."),
        activation_key,
        activation_key_old,
        prop(
            "org",
            since(
                "24.2",
                one_of([
                    string(),
                    int().deprecated("24.2", "Give the organization as a string."),
                ]),
                int(),
            ),
            "Organization to register into (with an activation key).",
        ),
        auto_attach,
        auto_attach_old,
        service_level,
        service_level_old,
        add_pool,
        add_pool_old,
        enable_repo,
        enable_repo_old,
        disable_repo,
        disable_repo_old,
        prop(
            "release_version",
            string(),
            "Pin the system to this minor release, e.g. `9.4`.",
        )
        .added("25.3"),
        rhsm_baseurl,
        rhsm_baseurl_old,
        server_hostname,
        server_hostname_old,
    ])
    .closed();
    // From 25.3 on, a setting may not be given under both of its names.
    let not_both = |a: &'static str, b: &'static str| not(requires([a, b]));
    let one_name_each = all_of([
        not_both("activation_key", "activation-key"),
        not_both("auto_attach", "auto-attach"),
        not_both("service_level", "service-level"),
        not_both("add_pool", "add-pool"),
        not_both("enable_repo", "enable-repo"),
        not_both("disable_repo", "disable-repo"),
        not_both("rhsm_baseurl", "rhsm-baseurl"),
        not_both("server_hostname", "server-hostname"),
    ]);
    module(
        "cc_rh_subscription",
        "Red Hat Subscription",
        [prop(
            "rh_subscription",
            all_of([settings, since("25.3", one_name_each, any())]),
            "Register a Red Hat system with subscription-manager and set up its subscriptions and repositories.",
        )],
    )
}

fn rsyslog() -> Module {
    let config = one_of([
        string(),
        obj([
            prop(
                "filename",
                string(),
                "File to write, relative to `config_dir` unless absolute.",
            ),
            prop("content", string(), "The rsyslog configuration text."),
        ])
        .closed()
        .required(["content"]),
    ]);
    module(
        "cc_rsyslog",
        "Rsyslog",
        [prop(
            "rsyslog",
            obj([
                prop(
                    "config_dir",
                    string(),
                    "Directory for the configuration files.",
                )
                .default(json!("/etc/rsyslog.d")),
                prop(
                    "config_filename",
                    string(),
                    "Default file name for `configs` entries that name none.",
                )
                .default(json!("20-cloud-config.conf")),
                prop(
                    "configs",
                    array(config),
                    "Configuration snippets: plain text, or a mapping with `content` and an optional `filename`.",
                ),
                prop(
                    "remotes",
                    obj([]),
                    "Remote log targets by name, each a string like `@10.0.0.1:514`.",
                ),
                prop(
                    "service_reload_command",
                    one_of([lit([json!("auto")]), array(string())]),
                    "How to restart rsyslog after writing its files: `auto`, or a command as a list.",
                )
                .default(json!("auto")),
                prop(
                    "install_rsyslog",
                    boolean(),
                    "Install rsyslog when it is missing.",
                )
                .added("23.3")
                .default(json!(false)),
                prop(
                    "check_exe",
                    string(),
                    "Program whose presence shows that rsyslog is installed.",
                )
                .added("23.3"),
                prop(
                    "packages",
                    array(string()).unique(),
                    "Packages to install when `install_rsyslog` is true.",
                )
                .added("23.3"),
            ])
            .closed(),
            "Write rsyslog configuration and send logs to remote servers.",
        )],
    )
}

fn runcmd() -> Module {
    module(
        "cc_runcmd",
        "Runcmd",
        [prop(
            "runcmd",
            array(one_of([array(string()), string(), null()])).min_items(1),
            "Commands to run once, late in the first boot: a string goes through `sh`, a list is run as it is.",
        )],
    )
}

fn salt_minion() -> Module {
    module(
        "cc_salt_minion",
        "Salt Minion",
        [prop(
            "salt_minion",
            obj([
                prop("pkg_name", string(), "Package that provides the minion."),
                prop("service_name", string(), "Service to restart after configuring."),
                prop("config_dir", string(), "Salt configuration directory."),
                prop(
                    "conf",
                    obj([]),
                    "Settings written to the minion configuration file.",
                ),
                prop("grains", obj([]), "Static grains written to the grains file."),
                prop("public_key", string(), "The minion's public key (PEM)."),
                prop("private_key", string(), "The minion's private key (PEM)."),
                prop("pki_dir", string(), "Directory for the minion's keys."),
            ])
            .closed(),
            "Install and configure a Salt minion.",
        )],
    )
}

fn scripts_vendor() -> Module {
    module(
        "cc_scripts_vendor",
        "Scripts Vendor",
        [prop(
            "vendor_data",
            obj([
                prop(
                    "enabled",
                    one_of([
                        boolean(),
                        string().deprecated("22.3", "Use a boolean instead of a string."),
                    ]),
                    "Whether to run the scripts the platform's vendor data provides.",
                )
                .default(json!(true)),
                prop(
                    "prefix",
                    union([array(union([string(), int()])), string()]),
                    "Command to run vendor scripts through, e.g. `[timeout, 30]`.",
                ),
            ])
            .closed(),
            "How to treat the scripts in the platform's vendor data.",
        )],
    )
}

fn seed_random() -> Module {
    module(
        "cc_seed_random",
        "Seed Random",
        [prop(
            "random_seed",
            obj([
                prop("file", string(), "Where to write the seed data.").default(json!("/dev/urandom")),
                prop(
                    "data",
                    string(),
                    "Seed data to write, encoded as `encoding` says.",
                ),
                prop(
                    "encoding",
                    str_enum(["raw", "base64", "b64", "gzip", "gz"]),
                    "How `data` is encoded.",
                )
                .default(json!("raw")),
                prop(
                    "command",
                    array(string()),
                    "Command to run afterwards to feed the entropy pool, e.g. `[pollinate]`.",
                ),
                prop(
                    "command_required",
                    boolean(),
                    "Fail when `command` cannot be run.",
                )
                .default(json!(false)),
            ])
            .closed(),
            "Add seed data to the random number generator at boot.",
        )],
    )
}

fn set_hostname() -> Module {
    module(
        "cc_set_hostname",
        "Set Hostname",
        [
            prop("preserve_hostname", boolean(), "Leave the hostname alone.").default(json!(false)),
            prop(
                "hostname",
                string(),
                "The hostname to set (or its first part, with `fqdn`).",
            ),
            prop("fqdn", string(), "The fully qualified domain name to set."),
            prop(
                "prefer_fqdn_over_hostname",
                boolean(),
                "Use the FQDN rather than the short name as the system hostname.",
            ),
            prop(
                "create_hostname_file",
                boolean(),
                "Create `/etc/hostname` when it does not exist.",
            )
            .added("23.4")
            .default(json!(true)),
        ],
    )
}

fn set_passwords() -> Module {
    let random = obj([
        prop("name", string(), "The user."),
        prop("type", str_enum(["RANDOM"]), "Generate a random password."),
    ])
    .closed()
    .required(["name", "type"]);
    let given = obj([
        prop("name", string(), "The user."),
        prop(
            "type",
            str_enum(["hash", "text"]),
            "Whether `password` is a crypt hash or plain text.",
        )
        .default(json!("hash")),
        prop("password", string(), "The password or its hash."),
    ])
    .closed()
    .required(["name", "password"]);
    module(
        "cc_set_passwords",
        "Set Passwords",
        [
            prop(
                "ssh_pwauth",
                one_of([
                    boolean(),
                    string().changed("22.3", "Only `true` or `false` will be accepted; use a boolean."),
                ]),
                "Allow (`true`) or forbid (`false`) password logins over SSH; absent leaves sshd as it is.",
            ),
            prop(
                "chpasswd",
                obj([
                    prop(
                        "expire",
                        boolean(),
                        "Make the users change the passwords set here at their first login.",
                    )
                    .default(json!(true)),
                    prop(
                        "users",
                        array(all_of([obj([]), any_of([random, given])])),
                        "Passwords to set: each a `name` with a `password` (and its `type`), or `type: RANDOM`.",
                    ),
                    prop(
                        "list",
                        all_of([
                            one_of([string(), array(pattern("^.+:.+$"))]),
                            // `minItems` beside the alternatives: only lists are counted.
                            union([string(), array_any().min_items(1)]),
                        ]),
                        "`user:password` lines, as one string or a list.",
                    )
                    .deprecated("22.2", "Use `chpasswd.users` instead."),
                ])
                .closed(),
                "Set user passwords at boot.",
            ),
            prop(
                "password",
                string(),
                "Password of the default user.",
            ),
        ],
    )
}

fn snap() -> Module {
    let command = || one_of([string(), array(string())]);
    module(
        "cc_snap",
        "Snap",
        [prop(
            "snap",
            obj([
                prop(
                    "assertions",
                    union([
                        map_of(string()).min_props(1),
                        array(string()).min_items(1).unique(),
                    ]),
                    "Signed assertions to acknowledge before installing snaps, as a list or by name.",
                ),
                prop(
                    "commands",
                    union([
                        map_of(command()).min_props(1),
                        array(command()).min_items(1),
                    ]),
                    "Snap commands to run, as a list or by name (run in name order); each a string or a list.",
                ),
            ])
            .closed()
            .min_props(1),
            "Acknowledge snap assertions and run snap commands.",
        )],
    )
}

fn spacewalk() -> Module {
    module(
        "cc_spacewalk",
        "Spacewalk",
        [prop(
            "spacewalk",
            obj([
                prop("server", string(), "The Spacewalk server to register with."),
                prop("proxy", string(), "A proxy to reach it through."),
                prop("activation_key", string(), "Activation key to register with."),
            ])
            .closed(),
            "Register the system with a Spacewalk server.",
        )],
    )
}

fn ssh_authkey_fingerprints() -> Module {
    module(
        "cc_ssh_authkey_fingerprints",
        "SSH AuthKey Fingerprints",
        [
            prop(
                "no_ssh_fingerprints",
                boolean(),
                "Do not print the fingerprints of the users' authorized keys to the console.",
            )
            .default(json!(false)),
            prop(
                "authkey_hash",
                string(),
                "Hash algorithm for those fingerprints, e.g. `sha256`.",
            )
            .default(json!("sha256")),
        ],
    )
}

fn ssh_import_id() -> Module {
    module(
        "cc_ssh_import_id",
        "SSH Import ID",
        [prop(
            "ssh_import_id",
            array(string()),
            "Public keys to import for the default user, e.g. `gh:octocat` or `lp:someone`.",
        )],
    )
}

fn ssh() -> Module {
    let host_keys = |pattern: &'static str| obj([]).closed().pattern_props(pattern, string());
    let key_types = |types: Ty| array(types).min_items(1);
    module(
        "cc_ssh",
        "SSH",
        [
            prop(
                "ssh_keys",
                since(
                    "24.1",
                    host_keys("^(ecdsa|ed25519|rsa)_(public|private|certificate)$"),
                    host_keys("^(dsa|ecdsa|ed25519|rsa)_(public|private|certificate)$"),
                ),
                "Host keys to install instead of generating them, named `<type>_private`, `<type>_public` or `<type>_certificate`.",
            ),
            prop(
                "ssh_authorized_keys",
                array(string()).min_items(1),
                "Public keys allowed to log in as the default user.",
            ),
            prop(
                "ssh_deletekeys",
                boolean(),
                "Delete the image's existing host keys.",
            )
            .default(json!(true)),
            prop(
                "ssh_genkeytypes",
                since(
                    "24.1",
                    key_types(str_enum(["ecdsa", "ed25519", "rsa"])),
                    key_types(str_enum(["dsa", "ecdsa", "ed25519", "rsa"])),
                ),
                "Host key types to generate when missing.",
            )
            .default(json!(["ecdsa", "ed25519", "rsa"])),
            prop(
                "disable_root",
                boolean(),
                "Refuse SSH logins as root, pointing to the default user instead.",
            )
            .default(json!(true)),
            prop(
                "disable_root_opts",
                string(),
                "The `authorized_keys` options that turn root's logins away (with `disable_root`).",
            ),
            prop(
                "allow_public_ssh_keys",
                boolean(),
                "Add the platform's public keys to the default user's authorized keys.",
            )
            .default(json!(true)),
            prop(
                "ssh_quiet_keygen",
                boolean(),
                "Do not print `ssh-keygen` output to the console.",
            )
            .default(json!(false)),
            prop(
                "ssh_publish_hostkeys",
                obj([
                    prop("enabled", boolean(), "Publish the host keys.").default(json!(true)),
                    prop(
                        "blacklist",
                        array(string()),
                        "Key types not to publish, e.g. `[ssh-dss]`.",
                    ),
                ])
                .closed(),
                "Publish the host's public keys to the platform, where it supports that.",
            ),
        ],
    )
}

fn timezone() -> Module {
    module(
        "cc_timezone",
        "Timezone",
        [prop(
            "timezone",
            string(),
            "The system timezone, as a zoneinfo name such as `Europe/Rome`.",
        )],
    )
}
