//! The types of spec version 1. Doc comments become the JSON Schema descriptions that
//! editors show on hover, so they are written for users.

use std::borrow::Cow;
use std::fmt;

use indexmap::IndexMap;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, MapAccess, SeqAccess, Visitor, value::MapAccessDeserializer};
use serde::{Deserialize, Deserializer};

use crate::source::Spanned;

/// A ctxgen application spec: what a VM (or several) must look like after first boot.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "ctxgen application spec, version 1")]
pub struct Spec {
    /// Spec format version. `1` is the only accepted value today.
    #[schemars(range(min = 1, max = 1))]
    pub version: Spanned<u32>,
    /// Application name: lowercase letters, digits and `-`. Used in headers and file names.
    #[schemars(regex(pattern = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"), length(max = 63))]
    pub name: Spanned<String>,
    /// What the images run and where they boot.
    #[serde(default)]
    pub target: Target,
    /// Free-form values for templates, reachable as `{{ vars.NAME }}`.
    #[serde(default)]
    pub vars: IndexMap<String, serde_json::Value>,
    /// Credentials by NAME: where `build` reads each value (environment, file,
    /// command) or that it generates one. Values never appear in the spec. Use them as
    /// `{ secret: NAME }` in typed fields and `{{ secrets.NAME }}` in templates.
    #[serde(default)]
    pub secrets: IndexMap<String, Spanned<SecretDecl>>,
    /// Host identity: hostname, FQDN, timezone, locale, NTP, the image's default user.
    #[serde(default)]
    pub host: Host,
    /// Accounts to create. Passwords are locked; logins use SSH keys.
    #[serde(default)]
    pub users: Vec<Spanned<User>>,
    /// SSH server policy.
    #[serde(default)]
    pub ssh: Ssh,
    /// Package updates, installs and extra repositories.
    #[serde(default)]
    pub packages: Packages,
    /// Files to write, from inline content or local files, optionally templated.
    #[serde(default)]
    pub files: Vec<Spanned<FileEntry>>,
    /// systemd units to enable, start, install, or stop and disable.
    #[serde(default)]
    pub services: Vec<Spanned<Service>>,
    /// Commands run at boot, as argv lists.
    #[serde(default)]
    pub commands: Commands,
    /// Block devices attached at run time: formatted only when asked, then mounted.
    #[serde(default)]
    pub volumes: Vec<Spanned<Volume>>,
    /// A swap file created at boot (images carry no swap).
    #[serde(default)]
    pub swap: Option<Spanned<Swap>>,
    /// Inbound firewall: default-deny on IPv4 and IPv6, SSH open unless closed.
    #[serde(default)]
    pub firewall: Firewall,
    /// CernVM-FS client: repositories mounted under /cvmfs.
    #[serde(default)]
    pub cvmfs: Option<Spanned<Cvmfs>>,
    /// Credentials the VM fetches itself at first boot (never in the user-data).
    pub runtime_secrets: Option<Spanned<RuntimeSecrets>>,
    /// Hand the VM to a configuration management tool at first boot (at most one tool):
    /// Ansible (`ansible-pull`), Puppet, Salt or Chef.
    pub config_management: Option<Spanned<ConfigManagement>>,
    /// Output format and compression.
    #[serde(default)]
    pub output: Output,
    /// Several kinds of VM in one application, by NAME: each role is compiled into its
    /// own user-data, from the top level with the role's sections merged in (lists
    /// appended, mappings merged key by key, other values replaced).
    #[serde(default)]
    pub roles: IndexMap<String, Spanned<Role>>,
    /// The VMs of the application, each compiled into its own user-data (or give them
    /// with `--instances FILE`).
    #[serde(default)]
    pub instances: Vec<Spanned<InstanceDecl>>,
}

/// The sections a role adds to the top level. Everything but `version`, `name`,
/// `target`, `secrets`, `output`, `roles` and `instances`, which apply to the whole
/// application. Lists are appended to the top level's, mappings merged key by key,
/// other values replaced.
#[derive(Debug, Default)]
pub struct Role;

/// Top-level sections that apply to the whole application and cannot be set by a role.
pub const APPLICATION_SECTIONS: &[&str] = &[
    "version",
    "name",
    "target",
    "secrets",
    "output",
    "roles",
    "instances",
];

impl<'de> Deserialize<'de> for Role {
    /// Any mapping (or nothing): its sections are read once merged with the top level.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct RoleVisitor;
        impl<'de> Visitor<'de> for RoleVisitor {
            type Value = Role;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of spec sections (such as `packages:` and `files:`)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Role, A::Error> {
                while map.next_entry::<de::IgnoredAny, de::IgnoredAny>()?.is_some() {}
                Ok(Role)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Role, E> {
                Ok(Role)
            }
            fn visit_none<E: de::Error>(self) -> Result<Role, E> {
                Ok(Role)
            }
        }
        deserializer.deserialize_any(RoleVisitor)
    }
}

impl JsonSchema for Role {
    fn schema_name() -> Cow<'static, str> {
        "Role".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let mut schema = Spec::json_schema(generator);
        if let Some(object) = schema.as_object_mut() {
            object.remove("required");
            object.remove("title");
            object.insert(
                "description".into(),
                "The sections a role adds to the top level (lists appended, mappings merged, \
                 other values replaced); the application-wide sections cannot be set here."
                    .into(),
            );
            if let Some(props) = object.get_mut("properties").and_then(|p| p.as_object_mut()) {
                props.retain(|name, _| !APPLICATION_SECTIONS.contains(&name.as_str()));
            }
        }
        schema
    }
}

/// One VM of the application.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstanceDecl {
    /// The instance's name (lowercase letters, digits and `-`): the name of its
    /// user-data file, `{{ instance.name }}` in templates, and the seed's instance id.
    #[schemars(regex(pattern = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"), length(max = 63))]
    pub name: Spanned<String>,
    /// The role it plays (required when the spec has roles).
    pub role: Option<Spanned<String>>,
    /// Values merged into `vars` for this instance only (mappings merged, lists
    /// appended, other values replaced).
    #[serde(default)]
    pub vars: IndexMap<String, serde_json::Value>,
}

/// Where a secret's value comes from: `{ from: env, name: VAR }`,
/// `{ from: file, path: PATH }`, `{ from: command, argv: [...] }` or
/// `{ generate: { length: 32, charset: alnum } }`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretDecl {
    /// The kind of source; leave it out for `generate`.
    pub from: Option<Spanned<SecretFrom>>,
    /// `from: env`: the environment variable to read at build time.
    pub name: Option<Spanned<String>>,
    /// `from: file`: a file next to the spec (inside its folder); its first line is
    /// the value.
    pub path: Option<Spanned<String>>,
    /// `from: command`: the program and its arguments, run without a shell; its
    /// standard output, without the final line break, is the value.
    pub argv: Option<Vec<Spanned<String>>>,
    /// `from: command`: seconds the command may take (default 10).
    pub timeout_seconds: Option<Spanned<u64>>,
    /// Generate a random value at each build (and for each instance).
    pub generate: Option<Spanned<Generate>>,
}

/// The kind of a secret's source.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SecretFrom {
    Env,
    File,
    Command,
}

/// A generated secret.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Generate {
    /// Characters (8 to 1024; default 32).
    #[serde(default = "default_secret_length")]
    #[schemars(range(min = 8, max = 1024))]
    pub length: Spanned<u32>,
    /// `alnum` (default), `hex`, `base64url` or `printable` (ASCII without space).
    #[serde(default)]
    pub charset: Charset,
}

fn default_secret_length() -> Spanned<u32> {
    Spanned::new(32, crate::source::Span::default())
}

/// Characters of a generated secret.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Charset {
    #[default]
    Alnum,
    Hex,
    Base64url,
    Printable,
}

/// A reference to a declared secret: `{ secret: NAME }`. A literal value is refused.
#[derive(Debug, Clone, JsonSchema)]
pub struct SecretRef {
    /// The name of a secret declared under `secrets:`.
    pub secret: Spanned<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretRefMap {
    secret: Spanned<String>,
}

impl<'de> Deserialize<'de> for SecretRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = SecretRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("`{ secret: NAME }`")
            }
            // Never echo a literal: it may be the credential itself.
            fn visit_str<E: de::Error>(self, _: &str) -> Result<SecretRef, E> {
                Err(E::custom(format_args!(
                    "{}: declare it under `secrets:` and write `{{ secret: NAME }}`",
                    crate::source::CREDENTIAL_LITERAL
                )))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<SecretRef, A::Error> {
                let r = SecretRefMap::deserialize(MapAccessDeserializer::new(map))?;
                Ok(SecretRef { secret: r.secret })
            }
        }
        d.deserialize_any(V)
    }
}

/// Credentials fetched on the VM at first boot.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RuntimeSecrets {
    /// HashiCorp Vault or OpenBao, reached with a single-use response-wrapped token or
    /// an EGI `fedcloud secret` locker token.
    pub vault: Spanned<Vault>,
}

/// Fetching items from Vault at first boot.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vault {
    /// `https://host[:port]`; TLS is always verified.
    pub address: Spanned<String>,
    /// A CA certificate file (PEM) next to the spec that alone is trusted for the
    /// address, instead of the system's CAs.
    pub ca: Option<Spanned<CaFile>>,
    /// The bootstrap token, from `secrets:`: a response-wrapped token or a locker
    /// token. It is the only credential in the user-data, and it is single-use.
    pub token: Spanned<SecretRef>,
    /// `wrapped` (default): `vault token create -wrap-ttl=5m`; `locker`: EGI's
    /// `fedcloud secret locker create`.
    #[serde(default)]
    pub token_kind: TokenKind,
    /// For `wrapped`: the creation path the wrapping token must have, or the VM refuses
    /// it (default `auth/token/create`).
    pub creation_path: Option<Spanned<String>>,
    /// Seconds the VM keeps retrying while Vault is unreachable (default 300).
    pub deadline_seconds: Option<Spanned<u32>>,
    /// What to fetch and where to write it.
    pub items: Vec<Spanned<VaultItem>>,
}

/// The kind of a runtime bootstrap token.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    #[default]
    Wrapped,
    Locker,
}

/// A CA file reference.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CaFile {
    /// Path of the PEM file, relative to the spec's folder.
    pub file: Spanned<String>,
}

/// One value to fetch at boot.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct VaultItem {
    /// The Vault path: `secret/data/app/db` (KV v2), `kv/app/db` (KV v1), or the
    /// cubbyhole path for a locker.
    pub key: Spanned<String>,
    /// The field of the secret to write.
    pub field: Spanned<String>,
    /// KV version, 1 or 2 (default: 2 when the key has `/data/`, else 1).
    pub kv: Option<Spanned<u8>>,
    /// Absolute path of the file on the VM.
    pub dest: Spanned<String>,
    /// Owner (default root).
    pub owner: Option<Spanned<String>>,
    /// Group (default: the owner's primary group).
    pub group: Option<Spanned<String>>,
    /// Octal mode string (default "0600").
    pub mode: Option<Spanned<String>>,
}

/// The images and cloud the user-data is for.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Target {
    /// Oldest cloud-init release on the images ("22.4" to "26.2"). The output is valid,
    /// with no deprecation notice, on every release from this one to the newest.
    #[serde(default = "default_cloud_init")]
    #[schemars(default = "default_cloud_init_str")]
    pub cloud_init: Spanned<String>,
    /// Operating system family of the images: decides package manager, firewall backend
    /// and sudo group.
    #[serde(default)]
    pub os: Os,
    /// Cloud the user-data is handed to: decides the user-data size budget.
    #[serde(default)]
    pub provider: Provider,
}

impl Default for Target {
    fn default() -> Self {
        Target {
            cloud_init: default_cloud_init(),
            os: Os::default(),
            provider: Provider::default(),
        }
    }
}

fn default_cloud_init() -> Spanned<String> {
    Spanned::new(default_cloud_init_str(), Default::default())
}

fn default_cloud_init_str() -> String {
    "22.4".to_string()
}

/// Operating system family.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Os {
    Debian,
    Ubuntu,
    Rhel,
    Fedora,
    /// Unknown or mixed: only portable forms are emitted.
    #[default]
    Any,
}

impl Os {
    /// True for the apt-based families.
    pub fn is_apt(self) -> bool {
        matches!(self, Os::Debian | Os::Ubuntu)
    }

    /// True for the dnf/yum-based families.
    pub fn is_rpm(self) -> bool {
        matches!(self, Os::Rhel | Os::Fedora)
    }
}

/// Cloud provider.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    Openstack,
    Aws,
    Azure,
    Gcp,
    Oci,
    Nocloud,
    #[default]
    Generic,
}

/// Host identity.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Host {
    /// Short host name (letters, digits, `-`; at most 63 characters). May be a template
    /// (`"{{ instance.name }}"`), rendered with `vars` and `instance`.
    pub hostname: Option<Spanned<String>>,
    /// Fully qualified domain name. May be a template, like `hostname`.
    pub fqdn: Option<Spanned<String>>,
    /// IANA time zone, such as `Europe/Amsterdam` or `UTC`.
    pub timezone: Option<Spanned<String>>,
    /// System locale, such as `en_US.UTF-8` (the image needs the locales package).
    pub locale: Option<Spanned<String>>,
    /// NTP servers (host names or addresses).
    #[serde(default)]
    pub ntp_servers: Vec<Spanned<String>>,
    /// The image's stock account (debian, ubuntu, cloud-user) that the cloud's key pair
    /// logs into: `keep` creates it as cloud-init normally does, `remove` does not.
    #[serde(default)]
    pub default_user: Spanned<DefaultUser>,
}

/// What happens to the image's default user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DefaultUser {
    #[default]
    Keep,
    Remove,
}

/// An account.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct User {
    /// Login name: lowercase letters, digits, `_` and `-`, starting with a letter or `_`.
    pub name: Spanned<String>,
    /// Full name or comment (no `:` and no control characters: the passwd file
    /// separates fields with `:`).
    pub gecos: Option<Spanned<String>>,
    /// Supplementary groups; groups that do not exist yet are created.
    #[serde(default)]
    pub groups: Vec<Spanned<String>>,
    /// Sudo policy: `none`, `password` (the sudo group: `sudo` on Debian/Ubuntu, `wheel`
    /// on RHEL/Fedora), or `nopasswd`.
    #[serde(default)]
    pub sudo: SudoPolicy,
    /// Login shell (an absolute path).
    pub shell: Option<Spanned<String>>,
    /// Authorized SSH public keys: a key line, or `{ file: path }` of a `.pub` file.
    /// ed25519, ecdsa and RSA of at least 3072 bits; DSA and private keys are refused.
    #[serde(default)]
    pub ssh_keys: Vec<Spanned<KeyRef>>,
    /// A password for console and sudo logins (SSH password logins stay off):
    /// `{ secret: NAME }`, hashed at build time (SHA-512 crypt). Without it the
    /// password is locked.
    pub password: Option<Spanned<SecretRef>>,
}

/// Sudo policy of a user.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SudoPolicy {
    #[default]
    None,
    Password,
    Nopasswd,
}

/// An SSH public key given inline or by file.
#[derive(Debug, Clone)]
pub enum KeyRef {
    Inline(String),
    File(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRef {
    file: String,
}

impl<'de> Deserialize<'de> for KeyRef {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = KeyRef;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an SSH public key line or `{ file: path }`")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyRef, E> {
                Ok(KeyRef::Inline(v.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<KeyRef, A::Error> {
                let r = FileRef::deserialize(MapAccessDeserializer::new(map))?;
                Ok(KeyRef::File(r.file))
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for KeyRef {
    fn schema_name() -> Cow<'static, str> {
        "KeyRef".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An SSH public key line (`ssh-ed25519 AAAA... comment`) or `{ file: path }` naming a public key file next to the spec.",
            "oneOf": [
                { "type": "string", "pattern": "(^|\\s)(ssh-ed25519|ecdsa-sha2-nistp(256|384|521)|ssh-rsa|sk-ssh-ed25519@openssh\\.com|sk-ecdsa-sha2-nistp256@openssh\\.com) [A-Za-z0-9+/]" },
                { "type": "object", "additionalProperties": false, "required": ["file"],
                  "properties": { "file": { "type": "string", "description": "Path of a public key file, relative to the spec's folder." } } }
            ]
        })
    }
}

/// SSH server policy.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ssh {
    /// Allow password logins. Default false.
    #[serde(default)]
    pub password_authentication: bool,
    /// Allow root logins (with keys only unless password authentication is on). Default false.
    #[serde(default)]
    pub permit_root_login: bool,
    /// Keep the host keys baked into the image. Default false: every instance gets fresh ones.
    #[serde(default)]
    pub keep_host_keys: bool,
}

/// Packages.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Packages {
    /// Refresh the package index at first boot. Default true. cloud-init refreshes it
    /// anyway whenever it installs packages (including those the firewall or CernVM-FS
    /// need), so `false` only holds when nothing is installed.
    #[serde(default)]
    #[schemars(with = "Option<bool>")]
    pub update: Option<Spanned<bool>>,
    /// Upgrade installed packages at first boot. Default false.
    #[serde(default)]
    pub upgrade: bool,
    /// Packages to install, by name (`name` or `name=version` on apt).
    #[serde(default)]
    pub install: Vec<Spanned<String>>,
    /// Extra repositories: apt sources on Debian/Ubuntu, yum repositories on RHEL/Fedora.
    #[serde(default)]
    pub repositories: Vec<Spanned<Repository>>,
}

fn yes() -> bool {
    true
}

/// A package repository whose signing key is embedded in the user-data.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Repository {
    /// Repository name: letters, digits, `.`, `_` and `-`. Names the sources and key files.
    pub name: Spanned<String>,
    /// Base URL (https recommended).
    pub url: Spanned<String>,
    /// apt only: the suite (distribution), such as `trixie`.
    pub suite: Option<Spanned<String>>,
    /// apt only: components, such as `[main]`.
    #[serde(default)]
    pub components: Vec<Spanned<String>>,
    /// The repository's signing key (ASCII-armored OpenPGP), embedded in the output.
    pub key: Option<Spanned<TextSource>>,
}

/// Text given inline (`content`) or read from a local file (`file`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TextSource {
    /// Path of a local file, relative to the spec's folder.
    pub file: Option<Spanned<String>>,
    /// The text itself.
    pub content: Option<Spanned<String>>,
}

/// A file to write on the VM.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Absolute path on the VM.
    pub path: Spanned<String>,
    /// A local file whose bytes are written (exactly one of `source` and `content`).
    pub source: Option<Spanned<String>>,
    /// The text to write (exactly one of `source` and `content`).
    pub content: Option<Spanned<String>>,
    /// Render the text as a template with `vars` (strict: unknown names are errors).
    #[serde(default)]
    pub template: bool,
    /// Octal permission string such as "0644" (quote it). Default "0644".
    pub mode: Option<Spanned<String>>,
    /// `user:group` or `user`. Default `root:root`.
    pub owner: Option<Spanned<String>>,
    /// Write the file late in the boot, after users and packages exist. Default: true
    /// when the owner is a user of this spec, false otherwise.
    pub defer: Option<Spanned<bool>>,
}

/// A systemd unit to manage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Service {
    /// Unit name; `.service` is implied when no unit type suffix is given.
    pub name: Spanned<String>,
    /// Enable the unit at boot. Default true.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Start the unit now. Default true.
    #[serde(default = "yes")]
    pub started: bool,
    /// Install a new unit: its text, inline or from a local file, goes to
    /// `/etc/systemd/system/NAME`.
    pub unit: Option<Spanned<UnitText>>,
}

/// Unit text given inline (`content`) or from a local file (`source`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UnitText {
    /// Path of a local unit file, relative to the spec's folder.
    pub source: Option<Spanned<String>>,
    /// The unit text itself.
    pub content: Option<Spanned<String>>,
}

/// Commands run at boot.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Commands {
    /// Run early on every boot, before anything else is set up (cloud-init `bootcmd`).
    #[serde(default)]
    pub every_boot: Vec<Spanned<Step>>,
    /// Run once, at the end of the first boot, after packages, files and services.
    #[serde(default)]
    pub first_boot: Vec<Spanned<Step>>,
}

/// One command: an argv list, or a shell step run under `sh -eu`.
#[derive(Debug, Clone)]
pub enum Step {
    /// Program and arguments, passed exactly; no shell is involved.
    Argv(Vec<String>),
    /// A shell script given inline.
    Shell(String),
    /// A shell script read from a local file.
    Script(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepMap {
    shell: Option<String>,
    script: Option<String>,
}

impl<'de> Deserialize<'de> for Step {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Step;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an argv list, `{ shell: ... }` or `{ script: FILE }`")
            }
            fn visit_str<E: de::Error>(self, _: &str) -> Result<Step, E> {
                Err(E::custom(
                    "a command must be an argv list such as [systemctl, restart, nginx], \
                     not a string (a string would be run by a shell: injection); \
                     for shell syntax use { shell: \"...\" }",
                ))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Step, A::Error> {
                let mut argv = Vec::new();
                while let Some(arg) = seq.next_element::<String>()? {
                    argv.push(arg);
                }
                Ok(Step::Argv(argv))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Step, A::Error> {
                let m = StepMap::deserialize(MapAccessDeserializer::new(map))?;
                match (m.shell, m.script) {
                    (Some(s), None) => Ok(Step::Shell(s)),
                    (None, Some(s)) => Ok(Step::Script(s)),
                    _ => Err(de::Error::custom(
                        "a step map takes exactly one of `shell` and `script`",
                    )),
                }
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for Step {
    fn schema_name() -> Cow<'static, str> {
        "Step".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A command: an argv list run without a shell, `{ shell: \"...\" }` run under `sh -eu`, or `{ script: FILE }` (a local script file run under `sh -eu`). A plain string is refused: it would be run by a shell.",
            "oneOf": [
                { "type": "array", "minItems": 1, "items": { "type": ["string", "number", "boolean"] } },
                { "type": "object", "additionalProperties": false, "required": ["shell"],
                  "properties": { "shell": { "type": "string", "description": "Shell text run with `sh -eu -c`." } } },
                { "type": "object", "additionalProperties": false, "required": ["script"],
                  "properties": { "script": { "type": "string", "description": "Path of a local script, relative to the spec's folder, run with `sh -eu`." } } }
            ]
        })
    }
}

/// A block device attached at run time.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Volume {
    /// Device path, such as `/dev/vdb`.
    pub device: Spanned<String>,
    /// Absolute mount point.
    pub mount: Spanned<String>,
    /// Filesystem type. Default ext4.
    #[serde(default)]
    pub filesystem: Filesystem,
    /// Filesystem label (at most 16 characters for ext4, 12 for xfs); the volume is
    /// mounted by label when given.
    pub label: Option<Spanned<String>>,
    /// Filesystem UUID to mount by (for a device formatted elsewhere).
    pub uuid: Option<Spanned<String>>,
    /// `never` (default) or `if_empty`: make a filesystem only when the device has none.
    #[serde(default)]
    pub format: FormatPolicy,
    /// Mount options. Default `[defaults, nofail]`.
    #[serde(default = "default_mount_options")]
    pub options: Vec<Spanned<String>>,
}

fn default_mount_options() -> Vec<Spanned<String>> {
    ["defaults", "nofail"]
        .iter()
        .map(|s| Spanned::new((*s).to_string(), Default::default()))
        .collect()
}

/// Filesystem type.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Filesystem {
    #[default]
    Ext4,
    Xfs,
}

impl Filesystem {
    pub fn as_str(self) -> &'static str {
        match self {
            Filesystem::Ext4 => "ext4",
            Filesystem::Xfs => "xfs",
        }
    }
}

/// When a volume gets a filesystem.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FormatPolicy {
    /// Never format; the device must already have a filesystem.
    #[default]
    Never,
    /// Format only when the device has no filesystem; never reformat.
    IfEmpty,
}

/// A swap file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Swap {
    /// Size with a unit suffix: `512M`, `2G`.
    #[schemars(regex(pattern = r"^[0-9]+[KMGT]$"))]
    pub size: Spanned<String>,
    /// Path of the swap file. Default `/swap.img`.
    #[serde(default = "default_swap_path")]
    pub path: Spanned<String>,
}

fn default_swap_path() -> Spanned<String> {
    Spanned::new("/swap.img".to_string(), Default::default())
}

/// Inbound firewall.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Firewall {
    /// Manage the firewall. Default true: even a spec without this section gets
    /// default-deny inbound with SSH open.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// `auto` picks nftables (debian, any), ufw (ubuntu) or firewalld (rhel, fedora).
    #[serde(default)]
    pub backend: Spanned<FirewallBackend>,
    /// Keep SSH (tcp/22) open from anywhere. Default true.
    #[serde(default = "yes")]
    pub allow_ssh: bool,
    /// Inbound traffic to let in.
    #[serde(default)]
    pub allow: Vec<Spanned<AllowRule>>,
}

impl Default for Firewall {
    fn default() -> Self {
        Firewall {
            enabled: true,
            backend: Spanned::default(),
            allow_ssh: true,
            allow: Vec::new(),
        }
    }
}

/// Firewall implementation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum FirewallBackend {
    #[default]
    Auto,
    Nftables,
    Ufw,
    Firewalld,
}

/// One inbound rule.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AllowRule {
    /// A port (`443`) or an inclusive range (`"8000-8100"`).
    pub port: Spanned<PortRange>,
    /// `tcp` (default) or `udp`.
    #[serde(default)]
    pub protocol: Protocol,
    /// Source networks in CIDR notation (IPv4 or IPv6). Empty: from anywhere.
    #[serde(default)]
    pub from: Vec<Spanned<String>>,
}

/// Transport protocol.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    #[default]
    Tcp,
    Udp,
}

impl Protocol {
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// An inclusive port range; a single port has `first == last`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

impl<'de> Deserialize<'de> for PortRange {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PortRange;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port number 1-65535 or a range such as \"8000-8100\"")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PortRange, E> {
                match u16::try_from(v) {
                    Ok(p) if p > 0 => Ok(PortRange { first: p, last: p }),
                    _ => Err(E::custom(format!("port {v} is out of range 1-65535"))),
                }
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PortRange, E> {
                u64::try_from(v)
                    .map_err(|_| E::custom(format!("port {v} is out of range 1-65535")))
                    .and_then(|v| self.visit_u64(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PortRange, E> {
                let parse = |s: &str| {
                    s.trim().parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                        E::custom(format!("`{v}` is not a port or a port range such as 8000-8100"))
                    })
                };
                let (first, last) = match v.split_once('-') {
                    Some((a, b)) => (parse(a)?, parse(b)?),
                    None => {
                        let p = parse(v)?;
                        (p, p)
                    }
                };
                if first > last {
                    return Err(E::custom(format!("port range `{v}` runs backwards")));
                }
                Ok(PortRange { first, last })
            }
        }
        d.deserialize_any(V)
    }
}

impl JsonSchema for PortRange {
    fn schema_name() -> Cow<'static, str> {
        "PortRange".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A port (443) or an inclusive range (\"8000-8100\").",
            "oneOf": [
                { "type": "integer", "minimum": 1, "maximum": 65535 },
                { "type": "string", "pattern": "^[0-9]{1,5}(-[0-9]{1,5})?$" }
            ]
        })
    }
}

/// CernVM-FS client.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Cvmfs {
    /// Repositories to mount, such as `atlas.cern.ch`.
    pub repositories: Vec<Spanned<String>>,
    /// `DIRECT`, or the site squid proxies (`http://squid.example.org:3128`; several
    /// separated by `;` or `|` as CernVM-FS reads them).
    pub http_proxy: Spanned<String>,
    /// Local cache size in MB.
    pub quota_mb: Option<Spanned<u32>>,
}

/// Output settings.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Output {
    /// `auto` (cloud-config unless parts are needed), `cloud-config`, or `multipart` (a
    /// MIME multipart whose parts each carry `Merge-Type:
    /// list(append)+dict(no_replace,recurse_list)+str()`).
    #[serde(default)]
    pub format: Spanned<OutputFormat>,
    /// `auto` (gzip only when over the budget of `target.provider`), `none` or `gzip`.
    /// Gzip for `gcp` is base64 text (set metadata `user-data-encoding: base64`). Still
    /// over the budget: an error naming the largest contributors.
    #[serde(default)]
    pub compression: Spanned<Compression>,
}

/// Output format.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum OutputFormat {
    #[default]
    Auto,
    CloudConfig,
    Multipart,
}

/// Output compression.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    #[default]
    Auto,
    None,
    Gzip,
}

/// Configuration management: exactly one tool.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfigManagement {
    /// Ansible in pull mode: the VM clones a repository and applies a playbook to
    /// itself with `ansible-pull`.
    pub ansible: Option<Spanned<Ansible>>,
    /// Puppet agent, enrolled with a Puppet server.
    pub puppet: Option<Spanned<Puppet>>,
    /// Salt minion, attached to a Salt master.
    pub salt: Option<Spanned<Salt>>,
    /// Chef Infra client, registered with a Chef server.
    pub chef: Option<Spanned<Chef>>,
}

/// Ansible, run on the VM itself.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Ansible {
    /// Where the playbook comes from and when it runs.
    pub pull: Spanned<AnsiblePull>,
    /// Variables passed to the playbook (`--extra-vars`, from a root-only JSON file).
    #[serde(default)]
    pub extra_vars: IndexMap<String, Spanned<serde_json::Value>>,
}

/// `ansible-pull`: clone a repository and run a playbook from it, at first boot and
/// optionally on a schedule.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AnsiblePull {
    /// The git repository: `https://host/path.git`, `git@host:path.git` or
    /// `ssh://[user@]host[:port]/path.git`.
    pub url: Spanned<String>,
    /// Branch, tag or commit to check out (default: the repository's default branch).
    pub checkout: Option<Spanned<String>>,
    /// The playbook, relative to the repository's top folder, such as `site.yml`.
    pub playbook: Spanned<String>,
    /// For an SSH URL: the repository's deploy key (an OpenSSH private key), from
    /// `secrets:`. Written to a root-only file and used for git only.
    pub private_key: Option<Spanned<SecretRef>>,
    /// For an SSH URL: the server's host key lines (`host ssh-ed25519 AAAA...`), as in
    /// `known_hosts`. Without them the first connection trusts the key it is shown.
    #[serde(default)]
    pub known_hosts: Vec<Spanned<String>>,
    /// Run again on this interval after first boot (a systemd time span such as
    /// `30min`, `2h` or `1d`), from a systemd timer. Without it, it runs once.
    pub schedule: Option<Spanned<String>>,
}

/// Puppet agent settings.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Puppet {
    /// The Puppet server's host name.
    pub server: Spanned<String>,
    /// The Puppet environment (default `production`).
    pub environment: Option<Spanned<String>>,
    /// The agent's certificate name (default: the VM's host name).
    pub certname: Option<Spanned<String>>,
    /// Challenge password for policy-based autosigning, from `secrets:`: written to
    /// `csr_attributes.yaml` (mode 0600).
    pub challenge_password: Option<Spanned<SecretRef>>,
}

/// Salt minion settings.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Salt {
    /// The Salt master's host name or address.
    pub master: Spanned<String>,
    /// Grains set on the minion (such as `role: web`).
    #[serde(default)]
    pub grains: IndexMap<String, Spanned<serde_json::Value>>,
    /// A pre-seeded minion key pair, from `secrets:` (without it the master accepts the
    /// minion's new key).
    pub keys: Option<Spanned<SaltKeys>>,
}

/// A Salt minion key pair.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SaltKeys {
    /// The minion's public key (PEM).
    pub public: Spanned<SecretRef>,
    /// The minion's private key (PEM).
    pub private: Spanned<SecretRef>,
}

/// Chef Infra client settings.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Chef {
    /// The organization URL, such as `https://chef.example.org/organizations/ex`.
    pub server_url: Spanned<String>,
    /// The validator client's name, such as `ex-validator`.
    pub validation_name: Spanned<String>,
    /// The validator's private key, from `secrets:`; deleted after the first successful run.
    pub validation_key: Spanned<SecretRef>,
    /// The run list, such as `["role[web]"]`.
    #[serde(default)]
    pub run_list: Vec<Spanned<String>>,
    /// The node name (default: the VM's host name).
    pub node_name: Option<Spanned<String>>,
    /// Chef Infra Client 15 and later run only once their license is accepted:
    /// `accept` or `accept-no-persist` (passed as `--chef-license`). Leave it out for
    /// Cinc or older clients.
    pub license: Option<Spanned<ChefLicense>>,
}

/// Accepting the Chef license.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ChefLicense {
    Accept,
    AcceptNoPersist,
}
