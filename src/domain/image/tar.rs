//! The build context: a ustar archive made in memory (the engine's `/build` takes a tarball).
//! The context holds one or two small regular files, so a few lines of POSIX ustar do what the
//! `tar` crate would.

const BLOCK: usize = 512;

/// A ustar archive of regular files (mode 0644, owner 0, mtime 0 so the bytes, and the
/// engine's build cache, depend only on the contents). Names must be under 100 bytes.
pub fn archive(files: &[(&str, &[u8])]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    for (name, data) in files {
        if name.is_empty() || name.len() >= 100 {
            return Err(format!(
                "tar: file name `{name}` must be 1 to 99 bytes long"
            ));
        }
        out.extend_from_slice(&header(name, data.len())?);
        out.extend_from_slice(data);
        out.resize(out.len().div_ceil(BLOCK) * BLOCK, 0);
    }
    // Two zero blocks end the archive.
    out.resize(out.len() + 2 * BLOCK, 0);
    Ok(out)
}

fn header(name: &str, size: usize) -> Result<[u8; BLOCK], String> {
    // 11 octal digits hold sizes below 8 GiB.
    if size as u64 >= 0o77777777777 {
        return Err(format!("tar: `{name}` is too large"));
    }
    let mut h = [0u8; BLOCK];
    let put = |h: &mut [u8; BLOCK], at: usize, bytes: &[u8]| {
        h[at..at + bytes.len()].copy_from_slice(bytes);
    };
    put(&mut h, 0, name.as_bytes());
    put(&mut h, 100, b"0000644\0"); // mode
    put(&mut h, 108, b"0000000\0"); // uid
    put(&mut h, 116, b"0000000\0"); // gid
    put(&mut h, 124, format!("{size:011o}\0").as_bytes());
    put(&mut h, 136, b"00000000000\0"); // mtime
    h[156] = b'0'; // regular file
    put(&mut h, 257, b"ustar\0");
    put(&mut h, 263, b"00");
    // The checksum is computed with its own field as eight spaces.
    put(&mut h, 148, b"        ");
    let sum: u32 = h.iter().map(|&b| u32::from(b)).sum();
    put(&mut h, 148, format!("{sum:06o}\0 ").as_bytes());
    Ok(h)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(h: &[u8], at: usize, len: usize) -> String {
        String::from_utf8_lossy(&h[at..at + len])
            .trim_end_matches(['\0', ' '])
            .to_string()
    }

    #[test]
    fn one_file_is_a_header_its_padded_data_and_two_zero_blocks() {
        let a = archive(&[("Dockerfile", b"FROM x\n")]).unwrap();
        assert_eq!(a.len(), 4 * BLOCK);
        let h = &a[..BLOCK];
        assert_eq!(field(h, 0, 100), "Dockerfile");
        assert_eq!(field(h, 124, 12), "00000000007");
        assert_eq!(&h[257..263], b"ustar\0");
        assert_eq!(&a[BLOCK..BLOCK + 7], b"FROM x\n");
        assert!(a[BLOCK + 7..].iter().all(|&b| b == 0));
        // The stored checksum is the byte sum with the checksum field read as spaces.
        let stored = u32::from_str_radix(&field(h, 148, 8), 8).unwrap();
        let mut blank = h.to_vec();
        blank[148..156].copy_from_slice(b"        ");
        assert_eq!(stored, blank.iter().map(|&b| u32::from(b)).sum::<u32>());
    }

    #[test]
    fn files_follow_each_other_on_block_boundaries() {
        let big = vec![b'x'; BLOCK + 1];
        let a = archive(&[("a", &big), ("b", b"")]).unwrap();
        // a: header + 2 data blocks; b: header; end: 2 blocks.
        assert_eq!(a.len(), 6 * BLOCK);
        assert_eq!(field(&a[3 * BLOCK..], 0, 100), "b");
    }

    #[test]
    fn long_or_empty_names_are_refused() {
        assert!(archive(&[(&"n".repeat(100), b"")]).is_err());
        assert!(archive(&[("", b"")]).is_err());
    }

    #[test]
    fn the_system_tar_reads_it() {
        let Ok(dir) = tempfile::tempdir() else {
            panic!("tempdir")
        };
        let path = dir.path().join("ctx.tar");
        std::fs::write(
            &path,
            archive(&[("Dockerfile", b"FROM x\n"), ("b.txt", b"hi")]).unwrap(),
        )
        .unwrap();
        let Ok(out) = std::process::Command::new("tar")
            .arg("-tvf")
            .arg(&path)
            .output()
        else {
            eprintln!("SKIPPED the_system_tar_reads_it: no tar binary");
            return;
        };
        assert!(out.status.success(), "{:?}", out);
        let list = String::from_utf8_lossy(&out.stdout);
        assert!(
            list.contains("Dockerfile") && list.contains("b.txt"),
            "{list}"
        );
        assert!(list.contains(" 7 "), "{list}");
    }
}
