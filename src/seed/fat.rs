//! FAT12/16 images labelled `cidata`, made in memory with the `fatfs` crate, with
//! fixed timestamps (1980-01-01) and a volume serial number taken from the content, so
//! the same files give the same bytes.

use std::io::{Cursor, Write};

use fatfs::{Date, DateTime, FileSystem, FormatVolumeOptions, FsOptions, Time, TimeProvider};
use sha2::{Digest, Sha256};

use super::{LABEL, SeedError, SeedFile};

/// The smallest image: 1 MiB (room for the FAT structures and a few small files).
const MIN_SIZE: usize = 1 << 20;
/// Images grow in steps of this much.
const STEP: usize = 64 << 10;

/// Every timestamp in the image: 1980-01-01 00:00:00, the FAT epoch.
#[derive(Debug)]
struct Epoch;

impl TimeProvider for Epoch {
    fn get_current_date(&self) -> Date {
        Date {
            year: 1980,
            month: 1,
            day: 1,
        }
    }
    fn get_current_date_time(&self) -> DateTime {
        DateTime {
            date: self.get_current_date(),
            time: Time {
                hour: 0,
                min: 0,
                sec: 0,
                millis: 0,
            },
        }
    }
}

static EPOCH: Epoch = Epoch;

/// The FAT image of `files` at its root, labelled `cidata` (in the boot sector and
/// as a volume label entry in the root folder, where `blkid` reads `LABEL`).
pub fn fat_image(files: &[SeedFile]) -> Result<Vec<u8>, SeedError> {
    // Each file rounded up to 4 KiB clusters, twice over, on top of the minimum.
    let data: usize = files.iter().map(|f| f.contents.len().div_ceil(4096) * 4096).sum();
    let mut size = (MIN_SIZE + 2 * data).div_ceil(STEP) * STEP;
    loop {
        match write_image(files, size) {
            Ok(image) => return Ok(image),
            // Out of room (a cluster size larger than guessed): try a larger image.
            Err(_) if size < 64 * MIN_SIZE => size *= 2,
            Err(e) => return Err(SeedError::Fat(e)),
        }
    }
}

fn write_image(files: &[SeedFile], size: usize) -> std::io::Result<Vec<u8>> {
    let mut label = [b' '; 11];
    label[..LABEL.len()].copy_from_slice(LABEL.as_bytes());
    let mut serial_source = Sha256::new();
    for f in files {
        serial_source.update(f.name.as_bytes());
        serial_source.update([0]);
        serial_source.update(&f.contents);
    }
    let digest = serial_source.finalize();
    let serial = u32::from_le_bytes([digest[0], digest[1], digest[2], digest[3]]);

    let mut disk = Cursor::new(vec![0u8; size]);
    fatfs::format_volume(
        &mut disk,
        FormatVolumeOptions::new().volume_label(label).volume_id(serial),
    )?;
    let mut image = disk.into_inner();
    add_label_entry(&mut image, &label);

    let mut disk = Cursor::new(image);
    {
        let options = FsOptions::new().update_accessed_date(false).time_provider(&EPOCH);
        let fs = FileSystem::new(&mut disk, options)?;
        {
            let root = fs.root_dir();
            for f in files {
                let mut file = root.create_file(&f.name)?;
                file.truncate()?;
                file.write_all(&f.contents)?;
                file.flush()?;
            }
        }
        fs.unmount()?;
    }
    Ok(disk.into_inner())
}

/// Writes the volume label entry (attribute 0x08) as the first entry of a FAT12/16
/// root folder, as `mkfs.fat -n` does; `format_volume` only puts the label in the
/// boot sector.
fn add_label_entry(image: &mut [u8], label: &[u8; 11]) {
    let u16_at = |at: usize| usize::from(u16::from_le_bytes([image[at], image[at + 1]]));
    let bytes_per_sector = u16_at(11);
    let reserved = u16_at(14);
    let fats = usize::from(image[16]);
    let sectors_per_fat = u16_at(22);
    let root = (reserved + fats * sectors_per_fat) * bytes_per_sector;
    let entry = &mut image[root..root + 32];
    entry.fill(0);
    entry[..11].copy_from_slice(label);
    entry[11] = 0x08; // volume label
    // Modification date 1980-01-01 (day 1, month 1, year 0), time 00:00:00.
    entry[24..26].copy_from_slice(&0x0021u16.to_le_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_is_deterministic_and_labelled() {
        let files = [SeedFile {
            name: "user-data".into(),
            contents: b"#cloud-config\n".to_vec(),
        }];
        let a = fat_image(&files).unwrap();
        assert_eq!(a, fat_image(&files).unwrap());
        assert_eq!(a.len(), MIN_SIZE + STEP);
        let fs = FileSystem::new(Cursor::new(a), FsOptions::new()).unwrap();
        assert_eq!(fs.volume_label(), "cidata");
        assert_eq!(
            fs.read_volume_label_from_root_dir().unwrap().as_deref(),
            Some("cidata")
        );
        let names: Vec<String> = fs.root_dir().iter().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, ["user-data"]);
    }

    #[test]
    fn large_files_fit() {
        let files = [SeedFile {
            name: "user-data".into(),
            contents: vec![b'x'; 5 << 20],
        }];
        let image = fat_image(&files).unwrap();
        let fs = FileSystem::new(Cursor::new(image), FsOptions::new()).unwrap();
        let file = fs.root_dir().iter().next().unwrap().unwrap();
        assert_eq!(file.len(), 5 << 20);
    }
}
