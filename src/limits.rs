//! The bounds every input, registry answer and template render is held to (issue 24: nothing a
//! component repository, a registry or a template sends may exhaust memory, disk or time).
//!
//! One set per process: the defaults below until [`crate::settings::Settings::load`] reads the
//! `release.*` settings that raise or lower them ([`set`]). Readers call [`get`]. The defaults
//! follow the trusted tools: containerd reads a manifest up to 4 MiB; a blob is read up to the
//! size its descriptor declares and no descriptor may declare more than 16 GiB; Helm bounds
//! template recursion (we bound steps, output and value sizes as well, see
//! [`crate::render::budget`]).

use std::sync::atomic::{AtomicU64, Ordering};

/// The limits in force. Sizes are bytes; steps are template actions, loop iterations and value
/// nodes walked (see [`crate::render::budget`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Limits {
    /// `release.maxYamlSize`: the largest YAML input read (values.yaml, Chart.yaml, repos files,
    /// version.yml, plugin files, every file the YAML editor edits). Default 32 MiB: a parsed
    /// document takes many times its size in memory (a 120 MB values.yaml of 2 M keys took
    /// 2.9 GB), so a larger one is refused before it is parsed.
    pub yaml_bytes: u64,
    /// `release.maxManifestSize`: the largest image manifest or index read from a registry.
    /// Default 4 MiB (containerd's limit).
    pub manifest_bytes: u64,
    /// `release.maxBlobSize`: the largest blob size a descriptor may declare; a larger one is
    /// refused before anything is downloaded. Default 16 GiB.
    pub blob_bytes: u64,
    /// `release.renderMaxSteps`: steps of one chart render (every action, every loop iteration,
    /// empty or not, every node of a value printed, copied or compared). Default 5 000 000
    /// (under a second of work in a release build; the heaviest of bitnami/charts, `common`
    /// vendored, takes under
    /// 30 000, and under 16 MiB of memory).
    pub render_steps: u64,
    /// `release.renderMaxOutput`: bytes all templates of one chart render may write. Default
    /// 64 MiB.
    pub render_output_bytes: u64,
    /// `release.renderMaxValue`: the size of any one value while rendering: a string's bytes, or
    /// 16 bytes a list item or dict entry. Default 32 MiB.
    pub render_value_bytes: u64,
    /// `release.renderMaxMemory`: the bytes one chart render may hold at once (its values,
    /// output and parsed templates, counted by the allocator, [`crate::memory`]). Default
    /// 256 MiB.
    pub render_memory_bytes: u64,
    /// `release.maxComponents`: the entries one repos file may list. Default 10 000 (the
    /// largest platform seen lists a few hundred; every entry is a repository to fetch and a chart
    /// to collect, so a file of 100 000 is a mistake or an attack, refused before any work).
    pub components: u64,
}

impl Limits {
    /// The built-in limits.
    pub const DEFAULT: Limits = Limits {
        yaml_bytes: 32 << 20,
        manifest_bytes: 4 << 20,
        blob_bytes: 16 << 30,
        render_steps: 5_000_000,
        render_output_bytes: 64 << 20,
        render_value_bytes: 32 << 20,
        render_memory_bytes: 256 << 20,
        components: 10_000,
    };

    /// `(setting, slot)` pairs: the `release.*` key of each limit.
    pub fn settings(&mut self) -> [(&'static str, &mut u64); 8] {
        [
            ("maxYamlSize", &mut self.yaml_bytes),
            ("maxManifestSize", &mut self.manifest_bytes),
            ("maxBlobSize", &mut self.blob_bytes),
            ("renderMaxSteps", &mut self.render_steps),
            ("renderMaxOutput", &mut self.render_output_bytes),
            ("renderMaxValue", &mut self.render_value_bytes),
            ("renderMaxMemory", &mut self.render_memory_bytes),
            ("maxComponents", &mut self.components),
        ]
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

static SLOTS: [AtomicU64; 8] = [
    AtomicU64::new(Limits::DEFAULT.yaml_bytes),
    AtomicU64::new(Limits::DEFAULT.manifest_bytes),
    AtomicU64::new(Limits::DEFAULT.blob_bytes),
    AtomicU64::new(Limits::DEFAULT.render_steps),
    AtomicU64::new(Limits::DEFAULT.render_output_bytes),
    AtomicU64::new(Limits::DEFAULT.render_value_bytes),
    AtomicU64::new(Limits::DEFAULT.render_memory_bytes),
    AtomicU64::new(Limits::DEFAULT.components),
];

/// The limits in force in this process.
pub fn get() -> Limits {
    let mut l = Limits::DEFAULT;
    for (slot, (_, v)) in SLOTS.iter().zip(l.settings()) {
        *v = slot.load(Ordering::Relaxed);
    }
    l
}

/// Put `limits` in force for the rest of the process (settings are read once per command).
pub fn set(mut limits: Limits) {
    for (slot, (_, v)) in SLOTS.iter().zip(limits.settings()) {
        slot.store(*v, Ordering::Relaxed);
    }
}

/// A size as git writes integers: decimal digits with an optional `k`, `m` or `g` suffix
/// (×1024, ×1024², ×1024³), as `git config --type=int` reads them. `None` when it is not one, or
/// is zero or overflows.
pub fn parse_size(v: &str) -> Option<u64> {
    let v = v.trim();
    let (digits, unit) = match v.char_indices().last()? {
        (i, 'k' | 'K') => (&v[..i], 1u64 << 10),
        (i, 'm' | 'M') => (&v[..i], 1 << 20),
        (i, 'g' | 'G') => (&v[..i], 1 << 30),
        _ => (v, 1),
    };
    let n: u64 = digits.trim().parse().ok()?;
    n.checked_mul(unit).filter(|n| *n > 0)
}

/// `n` bytes for people: `4 MiB`, `16 GiB`, `1500 bytes`.
pub fn human(n: u64) -> String {
    for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] {
        if n >= 1 << shift && n.is_multiple_of(1 << shift) {
            return format!("{} {unit}", n >> shift);
        }
    }
    format!("{n} bytes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_as_git_reads_integers() {
        assert_eq!(parse_size("4m"), Some(4 << 20));
        assert_eq!(parse_size(" 16G "), Some(16 << 30));
        assert_eq!(parse_size("1500"), Some(1500));
        assert_eq!(parse_size("2k"), Some(2048));
        for bad in ["", "m", "0", "-1", "1.5m", "12x", "99999999999999999999g"] {
            assert_eq!(parse_size(bad), None, "{bad}");
        }
        assert_eq!(human(4 << 20), "4 MiB");
        assert_eq!(human(16 << 30), "16 GiB");
        assert_eq!(human(1500), "1500 bytes");
    }
}
