//! Keys outside the `cc_*` modules that cloud-init's schema also checks: `base_config`
//! (the module lists, merging, `launch-index`, `system_info`), `output_config`
//! (`output`), `reporting_config` (`reporting`), and the top-level keys `migrate` and
//! `version` that later releases accept without a definition of their own. Their ids
//! are cloud-init's definition names.
//!
//! Version facts, from cloud-init's changelog:
//! - 23.2: `refresh_rmc_and_interface` dropped from the module names (the module went
//!   with RHEL 7 support; whether the schema's list changed in the same release is
//!   not stated, 25.1's list no longer has it).
//! - 23.4: the top level became closed and gained the definitions it lacked:
//!   `launch-index`, `merge_how`/`merge_type` (#4648), `output`, `version`,
//!   `migrate` (#4562).
//! - 24.1: `cc_migrator` and `cc_rightscale_userdata` removed, `ubuntu_pro` named
//!   (module lists); `migrate` stays a key of any value.
//! - 24.2: `system_info`, deprecated on arrival (#5168).
//! - 25.2: `raspberry_pi` joins the module names (#5827).

use serde_json::{Value, json};

use super::super::ty::*;

pub(super) fn modules() -> Vec<Module> {
    vec![base_config(), output_config(), reporting_config(), top_level()]
}

pub(super) fn defs() -> Vec<(&'static str, Ty)> {
    vec![
        ("base_config.all_modules", all_modules()),
        ("base_config.modules_definition", modules_definition()),
        ("base_config.merge_definition", merge_definition()),
        ("output_config.output_log_operator", output_log_operator()),
    ]
}

// -------------------------------------------------------------------------------
// base_config

/// Module names of 22.4 that every later release still accepts, in both spellings
/// where cloud-init has two.
const MODULE_NAMES: &[&str] = &[
    "ansible",
    "apk-configure",
    "apk_configure",
    "apt-configure",
    "apt_configure",
    "apt-pipelining",
    "apt_pipelining",
    "bootcmd",
    "byobu",
    "ca-certs",
    "ca_certs",
    "chef",
    "disable-ec2-metadata",
    "disable_ec2_metadata",
    "disk-setup",
    "disk_setup",
    "fan",
    "final-message",
    "final_message",
    "growpart",
    "grub-dpkg",
    "grub_dpkg",
    "install-hotplug",
    "install_hotplug",
    "keyboard",
    "keys-to-console",
    "keys_to_console",
    "landscape",
    "locale",
    "lxd",
    "mcollective",
    "mounts",
    "ntp",
    "package-update-upgrade-install",
    "package_update_upgrade_install",
    "phone-home",
    "phone_home",
    "power-state-change",
    "power_state_change",
    "puppet",
    "reset-rmc",
    "reset_rmc",
    "resizefs",
    "resolv-conf",
    "resolv_conf",
    "rh-subscription",
    "rh_subscription",
    "rsyslog",
    "runcmd",
    "salt-minion",
    "salt_minion",
    "scripts-per-boot",
    "scripts_per_boot",
    "scripts-per-instance",
    "scripts_per_instance",
    "scripts-per-once",
    "scripts_per_once",
    "scripts-user",
    "scripts_user",
    "scripts-vendor",
    "scripts_vendor",
    "seed-random",
    "seed_random",
    "set-hostname",
    "set_hostname",
    "set-passwords",
    "set_passwords",
    "snap",
    "spacewalk",
    "ssh",
    "ssh-authkey-fingerprints",
    "ssh_authkey_fingerprints",
    "ssh-import-id",
    "ssh_import_id",
    "timezone",
    "ubuntu-advantage",
    "ubuntu_advantage",
    "ubuntu-autoinstall",
    "ubuntu_autoinstall",
    "ubuntu-drivers",
    "ubuntu_drivers",
    "update-etc-hosts",
    "update_etc_hosts",
    "update-hostname",
    "update_hostname",
    "users-groups",
    "users_groups",
    "wireguard",
    "write-files",
    "write_files",
    "write-files-deferred",
    "write_files_deferred",
    "yum-add-repo",
    "yum_add_repo",
    "zypper-add-repo",
    "zypper_add_repo",
];

/// The module names one release accepts in `cloud_*_modules`: the common ones plus
/// `extra`. (cloud-init gives this list no type: other values fail only as "not one
/// of".)
fn names(extra: &[&'static str]) -> Ty {
    Ty::Enum(
        MODULE_NAMES
            .iter()
            .chain(extra)
            .map(|n| Value::from(*n))
            .collect(),
    )
}

fn all_modules() -> Ty {
    Ty::Since(vec![
        (
            ver("22.4"),
            names(&[
                "migrator",
                "refresh-rmc-and-interface",
                "refresh_rmc_and_interface",
                "rightscale-userdata",
                "rightscale_userdata",
            ]),
        ),
        (
            ver("23.2"),
            names(&["migrator", "rightscale-userdata", "rightscale_userdata"]),
        ),
        (ver("24.1"), names(&["ubuntu_pro"])),
        (ver("25.2"), names(&["ubuntu_pro", "raspberry_pi"])),
    ])
}

fn modules_definition() -> Ty {
    // cloud-init also describes the list form's items (name, frequency) with
    // `prefixItems`, which its draft-4 validator ignores: any list passes.
    array(one_of([def("base_config.all_modules"), array_any()]))
}

fn merge_definition() -> Ty {
    let rule = obj([
        prop(
            "name",
            str_enum(["list", "dict", "str"]),
            "Kind of value the rule merges.",
        ),
        prop(
            "settings",
            array(str_enum([
                "allow_delete",
                "no_replace",
                "replace",
                "append",
                "prepend",
                "recurse_dict",
                "recurse_list",
                "recurse_array",
                "recurse_str",
            ])),
            "How values of that kind are merged.",
        ),
    ])
    .closed()
    .required(["name", "settings"]);
    one_of([string(), array(rule).min_items(1)])
}

fn base_config() -> Module {
    let modules = |name, doc| prop(name, def("base_config.modules_definition"), doc);
    module(
        "base_config",
        "Base configuration",
        [
            modules("cloud_init_modules", "Modules of the init stage, in order: names, or `[name, frequency]` lists."),
            modules("cloud_config_modules", "Modules of the config stage, in order: names, or `[name, frequency]` lists."),
            modules("cloud_final_modules", "Modules of the final stage, in order: names, or `[name, frequency]` lists."),
            prop(
                "launch-index",
                int(),
                "Apply this part only on the instance with this launch index (EC2 multi-instance launches).",
            )
            .added("23.4"),
            prop(
                "merge_how",
                def("base_config.merge_definition"),
                "How this part merges into the parts before it: a string such as `list(append)+dict(recurse_array)`, or a list of rules.",
            )
            .added("23.4"),
            prop(
                "merge_type",
                def("base_config.merge_definition"),
                "Another name for `merge_how`.",
            )
            .added("23.4"),
            prop(
                "system_info",
                obj([]),
                "Distribution settings that belong in `/etc/cloud/cloud.cfg`, not in user data.",
            )
            .added("24.2")
            .deprecated("24.2", "Set distribution settings in the image's cloud.cfg, not in user data."),
        ],
    )
}

// -------------------------------------------------------------------------------
// output_config

fn output_log_operator() -> Ty {
    one_of([
        string(),
        array(string()).min_items(2).max_items(2),
        obj([
            prop(
                "output",
                string(),
                "Destination of standard output: a file, optionally after `>` (truncate), `>>` (append) or `|` (a command).",
            ),
            prop(
                "error",
                string(),
                "Destination of standard error, written like `output`.",
            ),
        ])
        .closed(),
    ])
}

fn output_config() -> Module {
    let stage = |name, doc| prop(name, def("output_config.output_log_operator"), doc);
    module(
        "output_config",
        "Output",
        [prop(
            "output",
            obj([
                stage("all", "Where the output of every stage goes: `\">> /var/log/cloud-init-output.log\"`, `[stdout, stderr]`, or a mapping."),
                stage("init", "Where the output of the init stage goes."),
                stage("config", "Where the output of the config stage goes."),
                stage("final", "Where the output of the final stage goes."),
            ])
            .closed(),
            "Redirect the output of cloud-init's stages to files or commands.",
        )
        .added("23.4")],
    )
}

// -------------------------------------------------------------------------------
// reporting_config

/// The alternatives of one reporter, chosen by its `type`.
fn reporter() -> Ty {
    let log = obj([
        prop("type", str_enum(["log"]), "Report events to the log."),
        prop(
            "level",
            str_enum(["DEBUG", "INFO", "WARN", "ERROR", "FATAL"]),
            "Log level of the events.",
        )
        .default(json!("DEBUG")),
    ])
    .closed()
    .required(["type"]);
    let print = obj([prop(
        "type",
        str_enum(["print"]),
        "Print events on standard output.",
    )])
    .closed()
    .required(["type"]);
    let webhook = obj([
        prop("type", str_enum(["webhook"]), "Send events to a URL."),
        prop("endpoint", format(Format::Uri), "URL the events are posted to."),
        prop("consumer_key", string(), "OAuth consumer key."),
        prop("token_key", string(), "OAuth token key."),
        prop("token_secret", string(), "OAuth token secret."),
        prop("consumer_secret", string(), "OAuth consumer secret."),
        prop(
            "timeout",
            number_min(0.0),
            "Seconds to wait for the endpoint's answer.",
        ),
        prop(
            "retries",
            int_in(Some(0), None),
            "How many times to retry a failed post.",
        ),
    ])
    .closed()
    .required(["type", "endpoint"]);
    let hyperv = obj([
        prop(
            "type",
            str_enum(["hyperv"]),
            "Write events to the Hyper-V key-value pair exchange.",
        ),
        prop("kvp_file_path", string(), "The KVP pool file to write.")
            .default(json!("/var/lib/hyperv/.kvp_pool_1")),
        prop(
            "event_types",
            array(string()),
            "Event types to report (all when absent).",
        ),
    ])
    .closed()
    .required(["type"]);
    all_of([obj([]), one_of([log, print, webhook, hyperv])])
}

fn reporting_config() -> Module {
    module(
        "reporting_config",
        "Reporting",
        [prop(
            "reporting",
            obj([]).closed().pattern_props("^.+$", reporter()),
            "Where cloud-init reports its progress events, by reporter name.",
        )],
    )
}

// -------------------------------------------------------------------------------
// Top-level keys without a definition

fn top_level() -> Module {
    module(
        "top_level",
        "Other top-level keys",
        [
            prop(
                "migrate",
                any(),
                "Read by the former migrator module (gone in 24.1); still accepted.",
            )
            .added("24.1"),
            prop(
                "version",
                any(),
                "Accepted at the top level and not read by any module.",
            )
            .added("23.4"),
        ],
    )
}
