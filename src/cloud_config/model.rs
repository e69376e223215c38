//! Typed cloud-config: one struct field per cloud-init key that ctxgen emits. Field
//! order is output order; empty fields are left out. Serialized by `emit` only.

use indexmap::IndexMap;
use serde::{Serialize, Serializer};

/// A `#cloud-config` document.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CloudConfig {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fqdn: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub manage_etc_hosts: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timezone: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub locale: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ntp: Option<Ntp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub users: Option<Vec<UserEntry>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_pwauth: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub disable_root: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ssh_deletekeys: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ssh_genkeytypes: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_update: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub package_upgrade: Option<bool>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub packages: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub apt: Option<Apt>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub yum_repos: IndexMap<String, YumRepo>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub write_files: Vec<WriteFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub swap: Option<SwapFile>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub bootcmd: Vec<Command>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub runcmd: Vec<Command>,
}

/// `ntp`: time servers.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Ntp {
    pub enabled: bool,
    pub servers: Vec<String>,
}

/// One entry of `users`: the distribution's default user, or an account.
#[derive(Clone, Debug, PartialEq)]
pub enum UserEntry {
    Default,
    User(Box<User>),
}

impl Serialize for UserEntry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            UserEntry::Default => s.serialize_str("default"),
            UserEntry::User(u) => u.serialize(s),
        }
    }
}

/// An account in `users`.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct User {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gecos: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sudo: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shell: Option<String>,
    /// A crypt(3) hash; never a clear-text password.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hashed_passwd: Option<String>,
    pub lock_passwd: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ssh_authorized_keys: Vec<String>,
}

/// `apt`: extra sources. The image's own source list is kept as it is.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Apt {
    pub preserve_sources_list: bool,
    pub sources: IndexMap<String, AptSource>,
}

impl Default for Apt {
    fn default() -> Self {
        Apt {
            preserve_sources_list: true,
            sources: IndexMap::new(),
        }
    }
}

/// One apt source (a `.list` file under sources.list.d).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AptSource {
    pub source: String,
}

/// One yum/dnf repository.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct YumRepo {
    pub name: String,
    pub baseurl: String,
    pub enabled: bool,
    pub gpgcheck: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpgkey: Option<String>,
}

/// How `write_files` content is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Encoding {
    #[serde(rename = "b64")]
    Base64,
    #[serde(rename = "gz+b64")]
    GzipBase64,
}

/// One entry of `write_files`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct WriteFile {
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub encoding: Option<Encoding>,
    pub content: String,
    pub owner: String,
    pub permissions: String,
    /// Add to the end of an existing file instead of replacing it.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub append: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub defer: bool,
}

impl WriteFile {
    /// A text file owned by root, written early in the boot (not deferred).
    pub fn root(path: impl Into<String>, content: impl Into<String>, permissions: &str) -> Self {
        WriteFile {
            path: path.into(),
            encoding: None,
            content: content.into(),
            owner: "root:root".to_string(),
            permissions: permissions.to_string(),
            append: false,
            defer: false,
        }
    }
}

/// `swap`: a swap file.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SwapFile {
    pub filename: String,
    pub size: String,
    pub maxsize: String,
}

/// One `bootcmd` or `runcmd` entry.
#[derive(Clone, Debug, PartialEq)]
pub enum Command {
    /// Program and arguments; cloud-init quotes each one.
    Argv(Vec<String>),
    /// A line given to the shell verbatim. ctxgen only emits fixed lines here, never
    /// text that contains a user's value.
    Fixed(&'static str),
}

impl Serialize for Command {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Command::Argv(argv) => argv.serialize(s),
            Command::Fixed(line) => s.serialize_str(line),
        }
    }
}

impl Command {
    /// An argv command from anything string-like.
    pub fn argv<I, S>(args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Command::Argv(args.into_iter().map(Into::into).collect())
    }
}
