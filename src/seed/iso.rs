//! A minimal ISO 9660 writer for a root folder of a few small files, with Joliet (a
//! second tree of UCS-2 names) and Rock Ridge (SUSP/RRIP `PX` and `NM` entries, `SP`
//! and `ER` in the root's `.` record), so Linux, `isoinfo` and `blkid` see the names
//! as given (`user-data`, not `USER_DAT.;1`).
//!
//! Layout, in 2048-byte sectors: 0-15 system area (zeros); 16 primary volume
//! descriptor; 17 Joliet supplementary volume descriptor; 18 terminator; 19-22 the
//! L and M path tables of each tree; then the primary root folder, the Joliet root
//! folder, and the files' data, each from a sector of its own, shared by both trees.
//! Every date is 1980-01-01 00:00:00 UTC, so the same files give the same bytes.

use super::{LABEL, SeedFile};

const SECTOR: usize = 2048;
/// Sector of the primary volume descriptor.
const PVD: usize = 16;
/// Sectors of the path tables: primary L, primary M, Joliet L, Joliet M.
const PATH_TABLES: [usize; 4] = [19, 20, 21, 22];
/// First sector of the primary root folder.
const ROOT: usize = 23;

/// Directory record date (ISO 9660 9.1.5): 1980-01-01 00:00:00, GMT offset 0.
const RECORD_DATE: [u8; 7] = [80, 1, 1, 0, 0, 0, 0];
/// Volume descriptor date (8.4.26.1).
const VOLUME_DATE: &[u8; 17] = b"1980010100000000\0";
/// "Not specified" volume descriptor date.
const NO_DATE: &[u8; 17] = b"0000000000000000\0";

const FLAG_DIRECTORY: u8 = 0x02;

const RRIP_ID: &[u8] = b"RRIP_1991A";
const RRIP_DESCRIPTION: &[u8] =
    b"THE ROCK RIDGE INTERCHANGE PROTOCOL PROVIDES SUPPORT FOR POSIX FILE SYSTEM SEMANTICS";
const RRIP_SOURCE: &[u8] = b"PLEASE CONTACT DISC PUBLISHER FOR SPECIFICATION SOURCE.";

/// POSIX modes in the `PX` entries: the seed can hold credentials, so files are
/// readable by root only (cloud-init reads them as root).
const DIR_MODE: u32 = 0o040555;
const FILE_MODE: u32 = 0o100400;

/// The ISO 9660 image of `files`, at the image's root, volume id `cidata`.
///
/// File names are expected to be short ASCII names such as `user-data` (at most 64
/// characters, the Joliet limit); the primary tree carries 8.3 forms of them
/// (`USER_DAT.;1`), made unique.
pub fn iso_image(files: &[SeedFile]) -> Vec<u8> {
    let names = level1_names(files);

    // Records whose sizes do not depend on where things are, to size the folders.
    let mut primary: Vec<(usize, Vec<u8>)> = (0..files.len()).map(|i| (i, names[i].clone())).collect();
    primary.sort_by(|a, b| a.1.cmp(&b.1));
    let mut joliet: Vec<(usize, Vec<u8>)> = (0..files.len()).map(|i| (i, ucs2(&files[i].name))).collect();
    joliet.sort_by(|a, b| a.1.cmp(&b.1));

    let primary_records = |root: u32, root_size: u32, extents: &[u32]| -> Vec<Vec<u8>> {
        let mut records = vec![
            record(root, root_size, FLAG_DIRECTORY, &[0], &root_dot_susp()),
            record(root, root_size, FLAG_DIRECTORY, &[1], &rr_dir_susp()),
        ];
        for (i, name) in &primary {
            let file = &files[*i];
            let su = rr_file_susp(file.name.as_bytes());
            records.push(record(extents[*i], file.contents.len() as u32, 0, name, &su));
        }
        records
    };
    let joliet_records = |root: u32, root_size: u32, extents: &[u32]| -> Vec<Vec<u8>> {
        let mut records = vec![
            record(root, root_size, FLAG_DIRECTORY, &[0], &[]),
            record(root, root_size, FLAG_DIRECTORY, &[1], &[]),
        ];
        for (i, name) in &joliet {
            records.push(record(extents[*i], files[*i].contents.len() as u32, 0, name, &[]));
        }
        records
    };

    let zeros = vec![0; files.len()];
    let primary_sectors = folder_sectors(&primary_records(0, 0, &zeros));
    let joliet_sectors = folder_sectors(&joliet_records(0, 0, &zeros));
    let joliet_root = ROOT + primary_sectors;
    let mut next = joliet_root + joliet_sectors;
    let mut extents = Vec::with_capacity(files.len());
    for file in files {
        extents.push(next as u32);
        next += file.contents.len().div_ceil(SECTOR);
    }
    let total = next;

    let mut image = vec![0u8; total * SECTOR];
    let primary_size = (primary_sectors * SECTOR) as u32;
    let joliet_size = (joliet_sectors * SECTOR) as u32;
    let primary_root = record(ROOT as u32, primary_size, FLAG_DIRECTORY, &[0], &[]);
    let joliet_root_record = record(joliet_root as u32, joliet_size, FLAG_DIRECTORY, &[0], &[]);

    put(
        &mut image,
        PVD * SECTOR,
        &volume_descriptor(1, total, &primary_root, (PATH_TABLES[0], PATH_TABLES[1]), false),
    );
    put(
        &mut image,
        (PVD + 1) * SECTOR,
        &volume_descriptor(
            2,
            total,
            &joliet_root_record,
            (PATH_TABLES[2], PATH_TABLES[3]),
            true,
        ),
    );
    let mut terminator = vec![255u8];
    terminator.extend_from_slice(b"CD001\x01");
    put(&mut image, (PVD + 2) * SECTOR, &terminator);

    for (sector, root, big_endian) in [
        (PATH_TABLES[0], ROOT, false),
        (PATH_TABLES[1], ROOT, true),
        (PATH_TABLES[2], joliet_root, false),
        (PATH_TABLES[3], joliet_root, true),
    ] {
        put(&mut image, sector * SECTOR, &path_table(root as u32, big_endian));
    }

    write_folder(
        &mut image,
        ROOT,
        &primary_records(ROOT as u32, primary_size, &extents),
    );
    write_folder(
        &mut image,
        joliet_root,
        &joliet_records(joliet_root as u32, joliet_size, &extents),
    );
    for (file, extent) in files.iter().zip(&extents) {
        put(&mut image, *extent as usize * SECTOR, &file.contents);
    }
    image
}

fn put(image: &mut [u8], at: usize, bytes: &[u8]) {
    image[at..at + bytes.len()].copy_from_slice(bytes);
}

/// Both-byte-order 32-bit number (7.3.3).
fn both32(value: u32) -> [u8; 8] {
    let mut out = [0; 8];
    out[..4].copy_from_slice(&value.to_le_bytes());
    out[4..].copy_from_slice(&value.to_be_bytes());
    out
}

/// Both-byte-order 16-bit number (7.2.3).
fn both16(value: u16) -> [u8; 4] {
    let mut out = [0; 4];
    out[..2].copy_from_slice(&value.to_le_bytes());
    out[2..].copy_from_slice(&value.to_be_bytes());
    out
}

/// UCS-2 big-endian, as Joliet names and identifiers are written.
fn ucs2(text: &str) -> Vec<u8> {
    text.encode_utf16().flat_map(u16::to_be_bytes).collect()
}

/// A directory record (9.1), padded to an even length.
fn record(extent: u32, size: u32, flags: u8, id: &[u8], system_use: &[u8]) -> Vec<u8> {
    let mut r = vec![0u8; 2]; // length, extended attribute record length
    r.extend_from_slice(&both32(extent));
    r.extend_from_slice(&both32(size));
    r.extend_from_slice(&RECORD_DATE);
    r.push(flags);
    r.push(0); // file unit size
    r.push(0); // interleave gap
    r.extend_from_slice(&both16(1)); // volume sequence number
    r.push(id.len() as u8);
    r.extend_from_slice(id);
    if id.len().is_multiple_of(2) {
        r.push(0);
    }
    r.extend_from_slice(system_use);
    if !r.len().is_multiple_of(2) {
        r.push(0);
    }
    assert!(r.len() <= 255, "directory record too long");
    r[0] = r.len() as u8;
    r
}

/// SUSP `RR` (RRIP 1.09 flags: which entries follow), kept for readers that look for it.
fn rr_flags(flags: u8) -> [u8; 5] {
    [b'R', b'R', 5, 1, flags]
}

/// RRIP `PX`: mode, links, uid 0, gid 0 (RRIP 1.10 form, 36 bytes).
fn px(mode: u32, links: u32) -> Vec<u8> {
    let mut e = vec![b'P', b'X', 36, 1];
    e.extend_from_slice(&both32(mode));
    e.extend_from_slice(&both32(links));
    e.extend_from_slice(&both32(0));
    e.extend_from_slice(&both32(0));
    e
}

const RR_PX: u8 = 0x01;
const RR_NM: u8 = 0x08;

/// System use of the root's `.` record: `SP` (SUSP is used), `RR`, `PX`, and `ER`
/// (the Rock Ridge extension is used; Linux turns Rock Ridge on when it sees it).
fn root_dot_susp() -> Vec<u8> {
    let mut su = vec![b'S', b'P', 7, 1, 0xBE, 0xEF, 0];
    su.extend_from_slice(&rr_dir_susp());
    let len = 8 + RRIP_ID.len() + RRIP_DESCRIPTION.len() + RRIP_SOURCE.len();
    su.extend_from_slice(&[
        b'E',
        b'R',
        len as u8,
        1,
        RRIP_ID.len() as u8,
        RRIP_DESCRIPTION.len() as u8,
        RRIP_SOURCE.len() as u8,
        1,
    ]);
    su.extend_from_slice(RRIP_ID);
    su.extend_from_slice(RRIP_DESCRIPTION);
    su.extend_from_slice(RRIP_SOURCE);
    su
}

fn rr_dir_susp() -> Vec<u8> {
    let mut su = rr_flags(RR_PX).to_vec();
    su.extend_from_slice(&px(DIR_MODE, 2));
    su
}

fn rr_file_susp(name: &[u8]) -> Vec<u8> {
    let mut su = rr_flags(RR_PX | RR_NM).to_vec();
    su.extend_from_slice(&[b'N', b'M', 5 + name.len() as u8, 1, 0]);
    su.extend_from_slice(name);
    su.extend_from_slice(&px(FILE_MODE, 1));
    su
}

/// Sectors a folder of `records` takes (a record never crosses a sector boundary).
fn folder_sectors(records: &[Vec<u8>]) -> usize {
    let mut sectors = 1;
    let mut used = 0;
    for r in records {
        if used + r.len() > SECTOR {
            sectors += 1;
            used = 0;
        }
        used += r.len();
    }
    sectors
}

fn write_folder(image: &mut [u8], first: usize, records: &[Vec<u8>]) {
    let mut at = first * SECTOR;
    for r in records {
        if at % SECTOR + r.len() > SECTOR {
            at = at.div_ceil(SECTOR) * SECTOR;
        }
        put(image, at, r);
        at += r.len();
    }
}

/// A path table (9.4) holding the root folder only.
fn path_table(root: u32, big_endian: bool) -> Vec<u8> {
    let mut t = vec![1u8, 0]; // identifier length, extended attribute record length
    t.extend_from_slice(&if big_endian {
        root.to_be_bytes()
    } else {
        root.to_le_bytes()
    });
    t.extend_from_slice(&if big_endian {
        1u16.to_be_bytes()
    } else {
        1u16.to_le_bytes()
    });
    t.extend_from_slice(&[0, 0]); // identifier (root) and padding
    t
}

/// Size in bytes of a path table from [`path_table`].
const PATH_TABLE_SIZE: u32 = 10;

/// A text field: ASCII padded with spaces, or (Joliet) UCS-2 padded with UCS-2 spaces.
fn text_field(text: &str, len: usize, joliet: bool) -> Vec<u8> {
    let mut out = if joliet {
        ucs2(text)
    } else {
        text.as_bytes().to_vec()
    };
    let pad: &[u8] = if joliet { &[0, b' '] } else { b" " };
    while out.len() < len {
        out.extend_from_slice(pad);
    }
    out.truncate(len);
    out
}

/// The primary (type 1, 8.4) or Joliet supplementary (type 2, 8.5) volume descriptor.
fn volume_descriptor(
    kind: u8,
    total_sectors: usize,
    root_record: &[u8],
    path_tables: (usize, usize),
    joliet: bool,
) -> Vec<u8> {
    let mut d = vec![0u8; SECTOR];
    d[0] = kind;
    d[1..6].copy_from_slice(b"CD001");
    d[6] = 1;
    put(&mut d, 8, &text_field("LINUX", 32, joliet));
    put(&mut d, 40, &text_field(LABEL, 32, joliet));
    put(&mut d, 80, &both32(total_sectors as u32));
    if joliet {
        put(&mut d, 88, b"%/E"); // UCS-2 level 3
    }
    put(&mut d, 120, &both16(1)); // volume set size
    put(&mut d, 124, &both16(1)); // volume sequence number
    put(&mut d, 128, &both16(SECTOR as u16));
    put(&mut d, 132, &both32(PATH_TABLE_SIZE));
    put(&mut d, 140, &(path_tables.0 as u32).to_le_bytes());
    put(&mut d, 148, &(path_tables.1 as u32).to_be_bytes());
    put(&mut d, 156, root_record);
    put(&mut d, 190, &text_field("", 128, joliet)); // volume set
    put(&mut d, 318, &text_field("", 128, joliet)); // publisher
    put(&mut d, 446, &text_field("", 128, joliet)); // data preparer
    put(&mut d, 574, &text_field("CTXGEN", 128, joliet)); // application
    put(&mut d, 702, &text_field("", 37 * 3, joliet)); // copyright, abstract, bibliographic
    put(&mut d, 813, VOLUME_DATE); // creation
    put(&mut d, 830, VOLUME_DATE); // modification
    put(&mut d, 847, NO_DATE); // expiration
    put(&mut d, 864, NO_DATE); // effective
    d[881] = 1; // file structure version
    d
}

/// ISO 9660 level 1 names (`USER_DAT.;1`) for the primary tree: 8 d-characters, a
/// dot, an extension of up to 3, made unique with a number at the end of the base.
fn level1_names(files: &[SeedFile]) -> Vec<Vec<u8>> {
    fn d_chars(text: &str, max: usize) -> String {
        text.chars()
            .map(|c| match c.to_ascii_uppercase() {
                c @ ('A'..='Z' | '0'..='9' | '_') => c,
                _ => '_',
            })
            .take(max)
            .collect()
    }
    let mut taken: Vec<String> = Vec::new();
    for file in files {
        let (base, ext) = match file.name.rsplit_once('.') {
            Some((b, e)) if !b.is_empty() => (b, e),
            _ => (file.name.as_str(), ""),
        };
        let base = d_chars(base, 8);
        let ext = d_chars(ext, 3);
        let mut name = format!("{base}.{ext};1");
        let mut n = 1;
        while taken.contains(&name) {
            let suffix = n.to_string();
            let keep = base.len().min(8 - suffix.len());
            name = format!("{}{suffix}.{ext};1", &base[..keep]);
            n += 1;
        }
        taken.push(name);
    }
    taken.into_iter().map(String::into_bytes).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, contents: &[u8]) -> SeedFile {
        SeedFile {
            name: name.into(),
            contents: contents.to_vec(),
        }
    }

    #[test]
    fn level1_names_are_unique_8_3() {
        let names = level1_names(&[
            file("user-data", b""),
            file("meta-data", b""),
            file("user-data2", b""),
            file("network-config", b""),
            file("a.json", b""),
        ]);
        let names: Vec<String> = names.into_iter().map(|n| String::from_utf8(n).unwrap()).collect();
        assert_eq!(
            names,
            [
                "USER_DAT.;1",
                "META_DAT.;1",
                "USER_DA1.;1",
                "NETWORK_.;1",
                "A.JSO;1"
            ]
        );
    }

    #[test]
    fn records_fit_and_are_even() {
        let dot = record(23, 2048, FLAG_DIRECTORY, &[0], &root_dot_susp());
        assert!(dot.len() <= 255 && dot.len().is_multiple_of(2));
        let f = record(30, 5, 0, b"NETWORK_.;1", &rr_file_susp(b"network-config"));
        assert!(f.len().is_multiple_of(2));
    }

    #[test]
    fn image_is_deterministic_and_sector_aligned() {
        let files = [
            file("user-data", b"#cloud-config\n"),
            file("meta-data", b"x: 1\n"),
        ];
        let a = iso_image(&files);
        assert_eq!(a, iso_image(&files));
        assert!(a.len().is_multiple_of(SECTOR));
        assert_eq!(&a[PVD * SECTOR + 40..PVD * SECTOR + 46], b"cidata");
        let total = u32::from_le_bytes(a[PVD * SECTOR + 80..PVD * SECTOR + 84].try_into().unwrap());
        assert_eq!(total as usize * SECTOR, a.len());
    }
}
