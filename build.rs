//! Build script: a fingerprint of the sources that decide which images a chart yields (the
//! template engine `src/render/` and the image readers `src/image/`), so that the render cache
//! (`src/image/cache.rs`) never serves findings of another build's renderer, even between two
//! builds of one version.

use std::path::Path;

fn main() {
    let mut files = Vec::new();
    for dir in ["src/render", "src/image"] {
        println!("cargo:rerun-if-changed={dir}");
        collect(Path::new(dir), &mut files);
    }
    files.sort();
    // FNV-1a, 64 bits, over each file's path and bytes: no dependency, stable across toolchains.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for f in &files {
        let bytes = std::fs::read(f).unwrap_or_default();
        for b in f
            .to_string_lossy()
            .as_bytes()
            .iter()
            .chain([0u8].iter())
            .chain(&bytes)
        {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    }
    println!("cargo:rustc-env=GIT_RELEASE_RENDER_FINGERPRINT={h:016x}");
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}
