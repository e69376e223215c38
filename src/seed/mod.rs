//! NoCloud seeds: the `user-data` and `meta-data` files that cloud-init's NoCloud
//! data source reads from a filesystem labelled `cidata`, as a folder, an ISO 9660
//! image ([`iso_image`]) or a FAT image ([`fat_image`]).
//!
//! Every image is deterministic: the same files give the same bytes (timestamps are
//! fixed at 1980-01-01 00:00:00 UTC, identifiers come from the content). The writers
//! are written for what a seed is: a root folder with a handful of small files.
//!
//! ```
//! use ctxgen::seed::{self, Meta};
//!
//! let user_data = b"#cloud-config\n";
//! let meta = Meta::new("webapp", Some("web-01"), user_data);
//! let files = seed::seed_files(user_data, &meta, None);
//! assert_eq!(files[0].name, "user-data");
//! let iso = seed::iso_image(&files);
//! assert_eq!(&iso[0x8001..0x8006], b"CD001");
//! let img = seed::fat_image(&files).unwrap();
//! assert_eq!(&img[510..512], &[0x55, 0xAA]);
//! ```

mod fat;
mod iso;

use std::path::Path;

use sha2::{Digest, Sha256};

pub use fat::fat_image;
pub use iso::iso_image;

/// The filesystem label cloud-init's NoCloud data source looks for.
pub const LABEL: &str = "cidata";

/// One file of a seed, at the root of the seed's filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeedFile {
    /// The file's name: short, ASCII, no `/` (`user-data`, `meta-data`, ...).
    pub name: String,
    pub contents: Vec<u8>,
}

/// What goes into `meta-data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    /// `instance-id`: cloud-init runs its first-boot modules again when it changes.
    pub instance_id: String,
    /// `local-hostname`.
    pub local_hostname: String,
}

impl Meta {
    /// The meta-data of a seed for spec (or instance) `name`: the instance id is
    /// `NAME-HASH`, HASH the first 8 hex digits of the SHA-256 of `user_data` (stable
    /// for the same user-data, new when it changes); the hostname is `hostname`, or
    /// `name` without one.
    pub fn new(name: &str, hostname: Option<&str>, user_data: &[u8]) -> Meta {
        let digest = Sha256::digest(user_data);
        let hash: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        Meta {
            instance_id: format!("{name}-{hash}"),
            local_hostname: hostname.unwrap_or(name).to_owned(),
        }
    }

    /// The `meta-data` document (YAML; values double-quoted, so YAML 1.1 reads them as
    /// strings whatever they look like).
    pub fn to_yaml(&self) -> String {
        format!(
            "instance-id: {}\nlocal-hostname: {}\n",
            quote(&self.instance_id),
            quote(&self.local_hostname)
        )
    }
}

/// A YAML double-quoted scalar (a JSON string is one).
fn quote(value: &str) -> String {
    serde_json::Value::from(value).to_string()
}

/// The files of a seed, in this order: `user-data`, `meta-data`, and `network-config`
/// when given (network configuration version 1 or 2, as cloud-init reads it from a
/// NoCloud seed).
pub fn seed_files(user_data: &[u8], meta: &Meta, network_config: Option<&[u8]>) -> Vec<SeedFile> {
    let mut files = vec![
        SeedFile {
            name: "user-data".into(),
            contents: user_data.to_vec(),
        },
        SeedFile {
            name: "meta-data".into(),
            contents: meta.to_yaml().into_bytes(),
        },
    ];
    if let Some(network) = network_config {
        files.push(SeedFile {
            name: "network-config".into(),
            contents: network.to_vec(),
        });
    }
    files
}

/// How a seed is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// A folder holding the files (for `-drive file=fat:...`, Packer's `cd_files`, or
    /// a web server for `ds=nocloud;s=...`).
    Folder,
    /// An ISO 9660 image with Joliet and Rock Ridge, volume id `cidata`.
    Iso,
    /// A FAT12/16 image labelled `cidata`.
    Fat,
}

impl Format {
    /// The format for output path `path`: a folder when `is_dir` (it exists as one) or
    /// when the name has no extension, an ISO image for `.iso`, a FAT image for `.img`.
    pub fn for_path(path: &Path, is_dir: bool) -> Result<Format, SeedError> {
        if is_dir {
            return Ok(Format::Folder);
        }
        match path.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()) {
            None => Ok(Format::Folder),
            Some(e) if e == "iso" => Ok(Format::Iso),
            Some(e) if e == "img" => Ok(Format::Fat),
            Some(e) => Err(SeedError::UnknownFormat(e)),
        }
    }
}

/// Why a seed could not be made.
#[derive(Debug, thiserror::Error)]
pub enum SeedError {
    #[error(
        "`.{0}` is not a seed format: write a folder (a path without extension), `.iso` (ISO 9660) or `.img` (FAT)"
    )]
    UnknownFormat(String),
    #[error("cannot write the FAT image: {0}")]
    Fat(#[from] std::io::Error),
}
