//! Modules `cc_fan` to `cc_puppet`: fan, final_message, growpart, grub_dpkg,
//! install_hotplug, keyboard, keys_to_console, landscape, locale, lxd, mcollective,
//! mounts, ntp, package_update_upgrade_install (with the shared package item), phone_home,
//! power_state_change and puppet.
//!
//! Version facts between the oracle releases come from cloud-init's ChangeLog:
//! - 23.2: `grub-efi/install_devices` (UEFI support in grub_dpkg, #2029); `ntp.peers` and
//!   `ntp.allow` (#3124).
//! - 23.3: landscape's `client` requires `account_name` and `computer_title` (the
//!   switch to `landscape-config`, #4233).
//! - 23.4: `packages` entries may name their package manager (`apt:`/`snap:`, #4202).
//! - 24.1: `phone_home.post` no longer offers `pub_key_dsa` (DSA dropped, #4456).
//! - 24.4: `locale: false` (#5647).

use serde_json::json;

use super::super::ty::*;

/// Name of the shared package entry definition.
const PACKAGE_ITEM: &str = "package_update_upgrade_install.package_item";

/// Sizes for swap: a number with an optional fraction, then a unit letter.
const SWAP_SIZE: &str = r"^([0-9]+)?\.?[0-9]+[BKMGT]$";

pub(super) fn modules() -> Vec<Module> {
    vec![
        fan(),
        final_message(),
        growpart(),
        grub_dpkg(),
        install_hotplug(),
        keyboard(),
        keys_to_console(),
        landscape(),
        locale(),
        lxd(),
        mcollective(),
        mounts(),
        ntp(),
        package_update_upgrade_install(),
        phone_home(),
        power_state_change(),
        puppet(),
    ]
}

pub(super) fn defs() -> Vec<(&'static str, Ty)> {
    vec![(
        PACKAGE_ITEM,
        one_of([array(string()).min_items(2).max_items(2), string()]),
    )]
}

fn fan() -> Module {
    module(
        "cc_fan",
        "Fan",
        [prop(
            "fan",
            obj([
                prop(
                    "config",
                    string(),
                    "The fan network configuration, written verbatim to `config_path`.",
                ),
                prop("config_path", string(), "Where the fan configuration is written.")
                    .default(json!("/etc/network/fan")),
            ])
            .closed()
            .required(["config"]),
            "Ubuntu fan overlay networking: installs the fan tools and writes their configuration.",
        )],
    )
}

fn final_message() -> Module {
    module(
        "cc_final_message",
        "Final Message",
        [prop(
            "final_message",
            string(),
            "Text logged when cloud-init finishes; may use `$UPTIME`, `$TIMESTAMP`, \
             `$DATASOURCE` and `$VERSION`.",
        )],
    )
}

fn growpart() -> Module {
    module(
        "cc_growpart",
        "Growpart",
        [prop(
            "growpart",
            obj([
                prop(
                    "mode",
                    one_of([
                        lit([json!("auto"), json!("growpart"), json!("gpart"), json!("off")]),
                        lit([json!(false)]).changed("22.3", "Use the string `'off'` instead of `false`."),
                    ]),
                    "The tool used to grow partitions, or `off` to leave them alone. \
                     Quote `'off'`: unquoted it is a YAML boolean.",
                )
                .default(json!("auto")),
                prop(
                    "devices",
                    array(string()),
                    "Mount points or block devices whose partitions are grown.",
                )
                .default(json!(["/"])),
                prop(
                    "ignore_growroot_disabled",
                    boolean(),
                    "Grow even when `/etc/growroot-disabled` exists.",
                )
                .default(json!(false)),
            ])
            .closed(),
            "Growing partitions to fill their disk at boot.",
        )],
    )
}

fn grub_dpkg() -> Module {
    let settings = obj([
        prop(
            "enabled",
            boolean(),
            "Whether to set grub's debconf install devices (off by default since 24.4).",
        )
        .default(json!(false)),
        prop(
            "grub-pc/install_devices",
            string(),
            "The device grub-pc installs to (debconf `grub-pc/install_devices`).",
        ),
        prop(
            "grub-pc/install_devices_empty",
            one_of([
                boolean(),
                string().changed("22.3", "Use a boolean instead of a string."),
            ]),
            "Whether grub-pc's install device list is intentionally empty.",
        ),
        prop(
            "grub-efi/install_devices",
            string(),
            "The EFI partition grub-efi installs to (debconf `grub-efi/install_devices`).",
        )
        .added("23.2"),
    ])
    .closed();
    module(
        "cc_grub_dpkg",
        "Grub Dpkg",
        [
            prop(
                "grub_dpkg",
                settings,
                "Debconf answers for grub's install devices on Debian-based systems.",
            ),
            prop(
                "grub-dpkg",
                obj([]),
                "Old spelling of `grub_dpkg`; its content is not checked.",
            )
            .deprecated("22.2", "Use `grub_dpkg` instead."),
        ],
    )
}

fn install_hotplug() -> Module {
    module(
        "cc_install_hotplug",
        "Install Hotplug",
        [prop(
            "updates",
            obj([prop(
                "network",
                obj([prop(
                    "when",
                    array(str_enum(["boot-new-instance", "boot-legacy", "boot", "hotplug"])),
                    "The events on which network configuration is applied again; \
                     `hotplug` installs the udev hook.",
                )])
                .closed()
                .required(["when"]),
                "When cloud-init renders network configuration.",
            )])
            .closed(),
            "Events that make cloud-init update the system's configuration.",
        )],
    )
}

fn keyboard() -> Module {
    module(
        "cc_keyboard",
        "Keyboard",
        [prop(
            "keyboard",
            obj([
                prop("layout", string(), "The keyboard layout, such as `us` or `de`."),
                prop("model", string(), "The keyboard model.").default(json!("pc105")),
                prop("variant", string(), "The layout variant, such as `dvorak`."),
                prop("options", string(), "Extra XKB options, such as `compose:rwin`."),
            ])
            .closed()
            .required(["layout"]),
            "The console and X keyboard layout.",
        )],
    )
}

fn keys_to_console() -> Module {
    module(
        "cc_keys_to_console",
        "Keys to Console",
        [
            prop(
                "ssh",
                obj([prop(
                    "emit_keys_to_console",
                    boolean(),
                    "Whether host keys and fingerprints are printed to the console.",
                )
                .default(json!(true))])
                .closed()
                .required(["emit_keys_to_console"]),
                "What cloud-init prints about the SSH host keys.",
            ),
            prop(
                "ssh_key_console_blacklist",
                array(string()).unique(),
                "Host key types whose keys are not printed to the console.",
            )
            .default(json!([])),
            prop(
                "ssh_fp_console_blacklist",
                array(string()).unique(),
                "Host key types whose fingerprints are not printed to the console.",
            ),
        ],
    )
}

fn landscape() -> Module {
    // The client section is open: other keys go to landscape-config as they are.
    let client = || {
        obj([
            prop("url", string(), "The Landscape server's message URL.")
                .default(json!("https://landscape.canonical.com/message-system")),
            prop("ping_url", string(), "The Landscape server's ping URL.")
                .default(json!("https://landscape.canonical.com/ping")),
            prop("data_path", string(), "Where the client keeps its state.")
                .default(json!("/var/lib/landscape/client")),
            prop(
                "log_level",
                str_enum(["debug", "info", "warning", "error", "critical"]),
                "The client's log level.",
            )
            .default(json!("info")),
            prop(
                "computer_title",
                string(),
                "The name this machine has in Landscape.",
            ),
            prop(
                "account_name",
                string(),
                "The Landscape account to register with.",
            ),
            prop(
                "registration_key",
                string(),
                "The account's registration key, if it has one.",
            ),
            prop(
                "tags",
                pattern("^[-_0-9a-zA-Z]+(,[-_0-9a-zA-Z]+)*$"),
                "Comma-separated tags for this machine, without spaces.",
            ),
            prop("http_proxy", string(), "Proxy for HTTP requests of the client."),
            prop("https_proxy", string(), "Proxy for HTTPS requests of the client."),
        ])
    };
    module(
        "cc_landscape",
        "Landscape",
        [prop(
            "landscape",
            obj([prop(
                "client",
                since(
                    "23.3",
                    client().required(["account_name", "computer_title"]),
                    client(),
                ),
                "Settings passed to `landscape-config`; unnamed keys are passed on too.",
            )])
            .closed()
            .required(["client"]),
            "Installs and registers the Landscape client.",
        )],
    )
}

fn locale() -> Module {
    module(
        "cc_locale",
        "Locale",
        [
            prop(
                "locale",
                since("24.4", one_of([boolean(), string()]), string()),
                "The system locale, such as `en_US.UTF-8`; `false` (24.4 on) leaves it alone.",
            ),
            prop(
                "locale_configfile",
                string(),
                "The file the locale is written to.",
            ),
        ],
    )
}

fn lxd() -> Module {
    let init = obj([
        prop("network_address", string(), "Address LXD listens on for its API."),
        prop("network_port", int(), "Port LXD listens on for its API."),
        prop(
            "storage_backend",
            str_enum(["zfs", "dir", "lvm", "btrfs"]),
            "Storage driver of the default pool.",
        )
        .default(json!("dir")),
        prop(
            "storage_create_device",
            string(),
            "Block device to build the storage pool on.",
        ),
        prop(
            "storage_create_loop",
            int(),
            "Size in GB of a loop device to build the storage pool on.",
        ),
        prop("storage_pool", string(), "Name of the storage pool."),
        prop(
            "trust_password",
            string(),
            "Password remote clients use to be trusted.",
        ),
    ])
    .closed();
    let bridge = obj([
        prop(
            "mode",
            str_enum(["none", "existing", "new"]),
            "Whether to use no bridge, an existing one, or create one.",
        ),
        prop("name", string(), "Name of the bridge.").default(json!("lxdbr0")),
        prop(
            "mtu",
            int_in(Some(-1), None),
            "The bridge's MTU; -1 lets LXD choose.",
        )
        .default(json!(-1)),
        prop("ipv4_address", string(), "IPv4 address of the bridge."),
        prop("ipv4_netmask", int(), "IPv4 prefix length of the bridge."),
        prop("ipv4_dhcp_first", string(), "First address handed out by DHCP."),
        prop("ipv4_dhcp_last", string(), "Last address handed out by DHCP."),
        prop("ipv4_dhcp_leases", int(), "Number of DHCP leases."),
        prop("ipv4_nat", boolean(), "NAT IPv4 traffic leaving the bridge.").default(json!(false)),
        prop("ipv6_address", string(), "IPv6 address of the bridge."),
        prop("ipv6_netmask", int(), "IPv6 prefix length of the bridge."),
        prop("ipv6_nat", boolean(), "NAT IPv6 traffic leaving the bridge.").default(json!(false)),
        prop("domain", string(), "DNS domain of the bridge's network."),
    ])
    .closed()
    .required(["mode"]);
    module(
        "cc_lxd",
        "LXD",
        [prop(
            "lxd",
            obj([
                prop("init", init, "Answers for `lxd init`."),
                prop("bridge", bridge, "The network bridge LXD's containers use."),
                prop(
                    "preseed",
                    string(),
                    "A full `lxd init --preseed` document; replaces `init` and `bridge`.",
                ),
            ])
            .closed()
            .min_props(1),
            "Installs and initializes LXD.",
        )],
    )
}

fn mcollective() -> Module {
    module(
        "cc_mcollective",
        "MCollective",
        [prop(
            "mcollective",
            obj([prop(
                "conf",
                obj([
                    prop("public-cert", string(), "The server's public certificate (PEM)."),
                    prop("private-cert", string(), "The server's private key (PEM)."),
                ])
                .pattern_props("^.+$", one_of([boolean(), int(), string()]))
                .closed(),
                "Settings written to `server.cfg`: each key a setting, each value a \
                 boolean, integer or string.",
            )])
            .closed(),
            "Installs and configures the MCollective server.",
        )],
    )
}

fn mounts() -> Module {
    module(
        "cc_mounts",
        "Mounts",
        [
            prop(
                "mounts",
                array(array(string()).min_items(1).max_items(6)).min_items(1),
                "fstab entries, each a list of up to six fields (device, mount point, type, \
                 options, dump, pass); missing fields come from `mount_default_fields`.",
            ),
            prop(
                "mount_default_fields",
                array(one_of([string(), null()])).min_items(6).max_items(6),
                "The six fstab fields used where a `mounts` entry stops short.",
            )
            .default(json!([
                null,
                null,
                "auto",
                "defaults,nofail,x-systemd.after=cloud-init-network.service",
                "0",
                "2"
            ])),
            prop(
                "swap",
                obj([
                    prop("filename", string(), "Path of the swap file."),
                    prop(
                        "size",
                        one_of([lit([json!("auto")]), int(), pattern(SWAP_SIZE)]),
                        "Size of the swap file: bytes, a size such as `2G`, or `auto`.",
                    ),
                    prop(
                        "maxsize",
                        one_of([int(), pattern(SWAP_SIZE)]),
                        "Upper bound for an `auto` size: bytes or a size such as `4G`.",
                    ),
                ])
                .closed(),
                "A swap file to create and enable.",
            ),
        ],
    )
}

fn ntp() -> Module {
    let hosts = || array(format(Format::Hostname)).unique();
    let config = obj([
        prop(
            "confpath",
            string(),
            "Where the client's configuration is written.",
        ),
        prop(
            "check_exe",
            string(),
            "Executable whose presence shows the client is installed.",
        ),
        prop(
            "packages",
            array(string()).unique(),
            "Packages that provide the client.",
        ),
        prop("service_name", string(), "The client's service to restart."),
        prop(
            "template",
            string(),
            "A template for the configuration file, replacing the built-in one.",
        ),
    ])
    .closed()
    .min_props(1);
    module(
        "cc_ntp",
        "NTP",
        [prop(
            "ntp",
            union([
                null(),
                obj([
                    prop("pools", hosts(), "NTP pools to use."),
                    prop("servers", hosts(), "NTP servers to use."),
                    prop("peers", hosts(), "NTP peers to keep time with.").added("23.2"),
                    prop(
                        "allow",
                        array(string()).unique(),
                        "Networks allowed to query this host (chrony `allow`).",
                    )
                    .added("23.2"),
                    prop(
                        "ntp_client",
                        string(),
                        "The client to set up (`chrony`, `ntp`, `ntpdate`, \
                         `systemd-timesyncd`, `openntpd`), or `auto`.",
                    )
                    .default(json!("auto")),
                    prop("enabled", boolean(), "Whether to configure NTP at all.").default(json!(true)),
                    prop(
                        "config",
                        config,
                        "Overrides of how the chosen client is installed and configured.",
                    ),
                ])
                .closed(),
            ]),
            "Time synchronization; an empty `ntp:` enables it with the defaults.",
        )],
    )
}

fn package_update_upgrade_install() -> Module {
    let managed = obj([
        prop("apt", array(def(PACKAGE_ITEM)), "Packages to install with apt."),
        prop("snap", array(def(PACKAGE_ITEM)), "Packages to install with snap."),
    ])
    .closed();
    module(
        "cc_package_update_upgrade_install",
        "Package Update Upgrade Install",
        [
            prop(
                "packages",
                array(since(
                    "23.4",
                    one_of([managed, def(PACKAGE_ITEM)]),
                    def(PACKAGE_ITEM),
                ))
                .min_items(1),
                "Packages to install: names, `[name, version]` pairs, or (23.4 on) \
                 lists under `apt:` or `snap:`.",
            ),
            prop("package_update", boolean(), "Refresh the package index at boot.").default(json!(false)),
            prop(
                "package_upgrade",
                boolean(),
                "Upgrade installed packages at boot.",
            )
            .default(json!(false)),
            prop(
                "package_reboot_if_required",
                boolean(),
                "Reboot after updating or installing if the system asks for it.",
            )
            .default(json!(false)),
            prop("apt_update", boolean(), "Old name of `package_update`.")
                .deprecated("22.2", "Use `package_update` instead."),
            prop("apt_upgrade", boolean(), "Old name of `package_upgrade`.")
                .deprecated("22.2", "Use `package_upgrade` instead."),
            prop(
                "apt_reboot_if_required",
                boolean(),
                "Old name of `package_reboot_if_required`.",
            )
            .deprecated("22.2", "Use `package_reboot_if_required` instead."),
        ],
    )
}

fn phone_home() -> Module {
    let keys = |dsa: bool| {
        let items = if dsa {
            str_enum([
                "pub_key_dsa",
                "pub_key_rsa",
                "pub_key_ecdsa",
                "pub_key_ed25519",
                "instance_id",
                "hostname",
                "fqdn",
            ])
        } else {
            str_enum([
                "pub_key_rsa",
                "pub_key_ecdsa",
                "pub_key_ed25519",
                "instance_id",
                "hostname",
                "fqdn",
            ])
        };
        array(items)
    };
    module(
        "cc_phone_home",
        "Phone Home",
        [prop(
            "phone_home",
            obj([
                prop(
                    "url",
                    format(Format::Uri),
                    "Where the data is posted; `$INSTANCE_ID` is replaced.",
                ),
                prop(
                    "post",
                    one_of([lit([json!("all")]), since("24.1", keys(false), keys(true))]),
                    "What to post: `all`, or a list of items (`pub_key_dsa` only before 24.1).",
                ),
                prop("tries", int(), "How many times to try the post.").default(json!(10)),
            ])
            .closed()
            .required(["url"]),
            "Posts instance data (host keys, ids, names) to a URL when boot finishes.",
        )],
    )
}

fn power_state_change() -> Module {
    module(
        "cc_power_state_change",
        "Power State Change",
        [prop(
            "power_state",
            obj([
                prop(
                    "delay",
                    one_of([
                        int_in(Some(0), None),
                        pattern(r"^\+?[0-9]+$").changed("22.3", "Use `now` or an integer number of minutes."),
                        lit([json!("now")]),
                    ]),
                    "Minutes to wait before acting, or `now`.",
                )
                .default(json!("now")),
                prop(
                    "mode",
                    str_enum(["poweroff", "reboot", "halt"]),
                    "What to do when cloud-init finishes.",
                ),
                prop("message", string(), "Message broadcast before the shutdown."),
                prop(
                    "timeout",
                    int(),
                    "Seconds to wait for cloud-init to finish before acting anyway.",
                )
                .default(json!(30)),
                prop(
                    "condition",
                    one_of([string(), boolean(), array_any()]),
                    "Act only if this holds: a boolean, or a command (string or list) \
                     that must exit 0.",
                )
                .default(json!(true)),
            ])
            .closed()
            .required(["mode"]),
            "Powers off, reboots or halts the machine after cloud-init finishes.",
        )],
    )
}

fn puppet() -> Module {
    let conf = obj([
        prop(
            "main",
            obj([]),
            "Settings of the `[main]` section of `puppet.conf`.",
        ),
        prop("server", obj([]), "Settings of the `[server]` section."),
        prop("agent", obj([]), "Settings of the `[agent]` section."),
        prop("user", obj([]), "Settings of the `[user]` section."),
        prop(
            "ca_cert",
            string(),
            "The Puppet CA certificate (PEM), installed as the agent's CA.",
        ),
    ])
    .closed();
    let csr = obj([
        prop(
            "custom_attributes",
            obj([]),
            "Custom attributes of the certificate signing request.",
        ),
        prop(
            "extension_requests",
            obj([]),
            "Extension requests of the certificate signing request.",
        ),
    ])
    .closed();
    module(
        "cc_puppet",
        "Puppet",
        [prop(
            "puppet",
            obj([
                prop("install", boolean(), "Whether to install Puppet.").default(json!(true)),
                prop(
                    "version",
                    string(),
                    "The Puppet version to install (distro packages only).",
                ),
                prop(
                    "install_type",
                    str_enum(["packages", "aio"]),
                    "Install from distro packages or with Puppet's all-in-one installer.",
                )
                .default(json!("packages")),
                prop(
                    "collection",
                    string(),
                    "The Puppet collection to install from (all-in-one only).",
                ),
                prop(
                    "aio_install_url",
                    string(),
                    "URL of the all-in-one install script.",
                ),
                prop(
                    "cleanup",
                    boolean(),
                    "Remove the all-in-one install script afterwards.",
                )
                .default(json!(true)),
                prop("conf_file", string(), "Path of `puppet.conf`."),
                prop("ssl_dir", string(), "Puppet's SSL directory."),
                prop("csr_attributes_path", string(), "Path of `csr_attributes.yaml`."),
                prop("package_name", string(), "Name of the Puppet package to install."),
                prop("exec", boolean(), "Run the Puppet agent once after setup.").default(json!(false)),
                prop("exec_args", array(string()), "Arguments for that agent run."),
                prop("start_service", boolean(), "Start the Puppet agent service.").default(json!(true)),
                prop("conf", conf, "Contents of `puppet.conf`, by section."),
                prop("csr_attributes", csr, "Contents of `csr_attributes.yaml`."),
            ])
            .closed(),
            "Installs and configures the Puppet agent.",
        )],
    )
}
