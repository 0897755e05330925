//! `macho-sign FILE`: replaces the code signature of a Mach-O executable with an ad-hoc one, in place.
//! The release signs the macOS single executables with it after injecting their SEA blob (which breaks
//! Node's own signature): Apple silicon refuses to run code whose signature does not match its pages.
use std::{env, fs, process::ExitCode};

fn main() -> ExitCode {
    let args: Vec<String> = env::args().skip(1).collect();
    let [path] = args.as_slice() else {
        eprintln!("usage: macho-sign FILE");
        return ExitCode::from(2);
    };
    match sign(path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("macho-sign: {path}: {err}");
            ExitCode::FAILURE
        }
    }
}

fn sign(path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let data = fs::read(path)?;
    // The signer writes the new signature where the old one was: an executable without one is refused here.
    if !has_code_signature(&data) {
        return Err("no LC_CODE_SIGNATURE load command (not a signed 64-bit Mach-O executable)".into());
    }
    let mut signed = Vec::with_capacity(data.len());
    apple_codesign_adhoc::MachoSigner::new(data)?.sign(&mut signed)?;
    fs::write(path, signed)?;
    Ok(())
}

/// A little-endian 64-bit Mach-O header (magic 0xfeedfacf) whose load commands include LC_CODE_SIGNATURE (0x1d).
fn has_code_signature(data: &[u8]) -> bool {
    let u32_at = |off: usize| data.get(off..off + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]));
    if u32_at(0) != Some(0xfeed_facf) {
        return false;
    }
    let Some(ncmds) = u32_at(16) else { return false };
    let mut off = 32;
    for _ in 0..ncmds {
        let (Some(cmd), Some(size)) = (u32_at(off), u32_at(off + 4)) else { return false };
        if cmd == 0x1d {
            return true;
        }
        off += size as usize;
    }
    false
}
