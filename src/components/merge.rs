//! The three-way update of a collected folder, as `kpt pkg update` and `git subtree pull` treat a
//! vendored package: **base** is the component at the `currentTag` recorded in the repos file
//! (placeholders substituted as they were then), **ours** is the folder in the work tree, **theirs**
//! is the component at the tag being collected. Local fixes (a `bump`, a `cherry-pick`, an edit,
//! dependencies vendored under `charts/` by `helm dependency build`) are kept; upstream changes are
//! taken; a file both sides changed is merged line by line with gix's text merge (git's own
//! algorithm, the one `git merge-file` uses), and what does not merge is a conflict that refuses the
//! whole collect.
//!
//! Per file, with `b`, `o`, `t` its state in base, ours and theirs (absent counts as a state):
//!
//! | case | result |
//! |---|---|
//! | `o == t` | `o` |
//! | `o == b` (no local change) | `t` (upstream's change, or its deletion) |
//! | `t == b` (no upstream change) | `o` (the local change; a file only ours has is kept) |
//! | both changed, both text | line merge; a conflict unless the hunks are apart |
//! | both changed otherwise (deleted on one side, binary, link) | a conflict |
//!
//! `Chart.yaml`'s `version:` changed on both sides takes the higher SemVer (issue: a local bump
//! and an upstream release), so that the two sides' version lines never conflict by themselves.

use gix::bstr::ByteSlice;

use crate::files::{FileEntry, FileKind, Files};

/// One conflicting hunk of a text file: where it starts in the merged text (1-based line) and
/// the lines each side has there.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Hunk {
    /// 1-based line of the conflict in the merged file.
    pub line: usize,
    /// The lines of the work tree (ours).
    pub ours: String,
    /// The lines of the component at the new tag (theirs).
    pub theirs: String,
}

/// A file of a folder that does not merge.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Conflict {
    /// Path relative to the folder.
    pub path: String,
    /// What both sides did, in words (`changed on both sides`, `deleted here, changed upstream`, …).
    pub reason: String,
    /// The conflicting hunks of a text file (empty for deletions, binaries and links).
    pub hunks: Vec<Hunk>,
}

/// The outcome of [`folder`].
#[derive(Debug, Clone, Default)]
pub struct Merged {
    /// The folder as collect writes it.
    pub files: Files,
    /// Files that do not merge; `files` then holds ours for them (nothing is written).
    pub conflicts: Vec<Conflict>,
    /// Files whose result differs from theirs: the local changes kept (sorted).
    pub patched: Vec<String>,
    /// With `take_theirs`: files changed on both sides whose local change was dropped (sorted).
    pub dropped: Vec<String>,
}

/// Three-way update of one folder (see the module docs). `base` is `None` when the recorded tag
/// cannot be read (no `currentTag`, or a tag deleted upstream): theirs is taken whole, as it is
/// when `ours` is empty (a folder collected for the first time). `take_theirs` (`--theirs`) takes
/// upstream's side of every file both changed; files only ours has are still kept.
pub fn folder(base: Option<&Files>, ours: &Files, theirs: &Files, take_theirs: bool) -> Merged {
    let Some(base) = base.filter(|_| !ours.is_empty()) else {
        return Merged {
            files: theirs.clone(),
            ..Default::default()
        };
    };
    if ours == base {
        return Merged {
            files: theirs.clone(),
            ..Default::default()
        };
    }
    let mut out = Merged::default();
    let mut paths: Vec<&String> = base
        .keys()
        .chain(ours.keys())
        .chain(theirs.keys())
        .collect();
    paths.sort();
    paths.dedup();
    for path in paths {
        let (b, o, t) = (base.get(path), ours.get(path), theirs.get(path));
        let result = if o == t || t == b {
            o.cloned()
        } else if o == b || take_theirs {
            if o != b {
                out.dropped.push(path.clone());
            }
            t.cloned()
        } else {
            match file(path, b, o, t) {
                Ok(entry) => Some(entry),
                Err(conflict) => {
                    out.conflicts.push(conflict);
                    o.cloned()
                }
            }
        };
        if result.as_ref() != t {
            out.patched.push(path.clone());
        }
        if let Some(entry) = result {
            out.files.insert(path.clone(), entry);
        }
    }
    out
}

/// A file both sides changed: their line merge, or the conflict.
fn file(
    path: &str,
    b: Option<&FileEntry>,
    o: Option<&FileEntry>,
    t: Option<&FileEntry>,
) -> Result<FileEntry, Conflict> {
    let conflict = |reason: &str| Conflict {
        path: path.to_string(),
        reason: reason.to_string(),
        hunks: Vec::new(),
    };
    let (o, t) = match (o, t) {
        (Some(o), Some(t)) => (o, t),
        (None, _) => return Err(conflict("deleted here, changed upstream")),
        (_, None) => return Err(conflict("changed here, deleted upstream")),
    };
    let text = |e: &FileEntry| e.kind != FileKind::Symlink && crate::placeholders::is_text(&e.data);
    if !text(o) || !text(t) || b.is_some_and(|b| !text(b)) {
        return Err(conflict(
            "changed on both sides (not text: a binary file or a link)",
        ));
    }
    // Kind: a mode change on one side only is kept.
    let kind = match b {
        Some(b) if o.kind == b.kind => t.kind,
        _ => o.kind,
    };
    let empty = Vec::new();
    let base_data = b.map_or(&empty, |b| &b.data);
    let (mut ours_data, mut theirs_data) = (o.data.clone(), t.data.clone());
    let mut base_data = base_data.clone();
    if path == "Chart.yaml" {
        higher_version(&mut base_data, &mut ours_data, &mut theirs_data);
    }
    let (merged, clean) = text_merge(&base_data, &ours_data, &theirs_data);
    if clean {
        return Ok(FileEntry { kind, data: merged });
    }
    Err(Conflict {
        path: path.to_string(),
        reason: if b.is_some() {
            "changed on both sides".into()
        } else {
            "added on both sides with other content".into()
        },
        hunks: hunks(&merged),
    })
}

/// gix's text merge (git's `merge-file` algorithm): the merged bytes and whether no conflict
/// remains (markers are left in the bytes when one does).
fn text_merge(base: &[u8], ours: &[u8], theirs: &[u8]) -> (Vec<u8>, bool) {
    use gix::merge::blob::builtin_driver::text::{Labels, Options};
    let mut input = gix::diff::blob::InternedInput::new(&[][..], &[][..]);
    let mut out = Vec::new();
    let labels = Labels {
        ancestor: Some(b"base".as_bstr()),
        current: Some(b"ours (work tree)".as_bstr()),
        other: Some(b"theirs (new tag)".as_bstr()),
    };
    let resolution = gix::merge::blob::builtin_driver::text(
        &mut out,
        &mut input,
        labels,
        ours,
        base,
        theirs,
        Options::default(),
    );
    (out, resolution != gix::merge::blob::Resolution::Conflict)
}

/// The conflict hunks of merged text with git's markers (`<<<<<<<`, `=======`, `>>>>>>>`).
fn hunks(merged: &[u8]) -> Vec<Hunk> {
    let text = String::from_utf8_lossy(merged);
    let mut hunks = Vec::new();
    let mut current: Option<(usize, String, String, bool)> = None;
    for (i, line) in text.lines().enumerate() {
        if line.starts_with("<<<<<<<") {
            current = Some((i + 1, String::new(), String::new(), false));
        } else if line.starts_with("=======") {
            if let Some(c) = current.as_mut() {
                c.3 = true;
            }
        } else if line.starts_with(">>>>>>>") {
            if let Some((line, ours, theirs, _)) = current.take() {
                hunks.push(Hunk { line, ours, theirs });
            }
        } else if let Some((_, ours, theirs, in_theirs)) = current.as_mut() {
            let side = if *in_theirs { theirs } else { ours };
            side.push_str(line);
            side.push('\n');
        }
    }
    hunks
}

/// Chart.yaml with `version:` changed on both sides: all three take the higher SemVer, so that
/// the version lines agree and the rest merges on its own.
fn higher_version(base: &mut Vec<u8>, ours: &mut Vec<u8>, theirs: &mut Vec<u8>) {
    let version = |d: &[u8]| crate::chart::meta::parse(d).version;
    let (Some(o), Some(t)) = (version(ours), version(theirs)) else {
        return;
    };
    if o == t || version(base).is_some_and(|b| b == o || b == t) {
        return;
    }
    let parse = |v: &str| crate::version_bump::parse_loose(v).map(|(v, _)| v);
    let higher = match (parse(&o), parse(&t)) {
        (Some(a), Some(b)) if a.cmp_precedence(&b).is_gt() => o,
        (Some(_), Some(_)) => t,
        _ => return,
    };
    // The base too: the version lines then agree everywhere and no neighbouring change conflicts
    // with them.
    for side in [base, ours, theirs] {
        if let Some(edited) = crate::chart::meta::set_version(side, &higher) {
            *side = edited;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(entries: &[(&str, &str)]) -> Files {
        crate::files::regular_files(entries)
    }

    fn text(m: &Merged, p: &str) -> String {
        String::from_utf8(m.files[p].data.clone()).unwrap()
    }

    #[test]
    fn a_local_fix_and_an_upstream_change_apart_both_land() {
        let base = files(&[("values.yaml", "a: 1\nb: 2\nc: 3\nd: 4\ne: 5\n")]);
        let ours = files(&[("values.yaml", "a: 10\nb: 2\nc: 3\nd: 4\ne: 5\n")]);
        let theirs = files(&[("values.yaml", "a: 1\nb: 2\nc: 3\nd: 4\ne: 50\n")]);
        let m = folder(Some(&base), &ours, &theirs, false);
        assert!(m.conflicts.is_empty(), "{:?}", m.conflicts);
        assert_eq!(text(&m, "values.yaml"), "a: 10\nb: 2\nc: 3\nd: 4\ne: 50\n");
        assert_eq!(m.patched, ["values.yaml"]);
    }

    #[test]
    fn the_same_line_changed_on_both_sides_is_a_conflict_with_its_hunk() {
        let base = files(&[("values.yaml", "image: a:1\nreplicas: 1\n")]);
        let ours = files(&[("values.yaml", "image: a:1-fix\nreplicas: 1\n")]);
        let theirs = files(&[("values.yaml", "image: a:2\nreplicas: 1\n")]);
        let m = folder(Some(&base), &ours, &theirs, false);
        assert_eq!(m.conflicts.len(), 1);
        let c = &m.conflicts[0];
        assert_eq!(c.path, "values.yaml");
        assert_eq!(
            c.hunks,
            [Hunk {
                line: 1,
                ours: "image: a:1-fix\n".into(),
                theirs: "image: a:2\n".into()
            }]
        );
        // --theirs takes upstream's side.
        let m = folder(Some(&base), &ours, &theirs, true);
        assert!(m.conflicts.is_empty());
        assert_eq!(m.dropped, ["values.yaml"]);
        assert_eq!(text(&m, "values.yaml"), "image: a:2\nreplicas: 1\n");
        assert!(m.patched.is_empty());
    }

    #[test]
    fn files_only_the_work_tree_has_are_kept_and_deletions_follow_their_side() {
        let base = files(&[
            ("Chart.yaml", "name: x\nversion: 1.0.0\n"),
            ("old.txt", "o\n"),
        ]);
        let ours = files(&[
            ("Chart.yaml", "name: x\nversion: 1.0.0\n"),
            ("old.txt", "o\n"),
            ("charts/dep-1.0.0.tgz", "vendored"),
        ]);
        let theirs = files(&[("Chart.yaml", "name: x\nversion: 1.1.0\n")]);
        for take_theirs in [false, true] {
            let m = folder(Some(&base), &ours, &theirs, take_theirs);
            assert!(m.conflicts.is_empty());
            assert_eq!(
                m.files.keys().collect::<Vec<_>>(),
                ["Chart.yaml", "charts/dep-1.0.0.tgz"]
            );
            assert_eq!(text(&m, "Chart.yaml"), "name: x\nversion: 1.1.0\n");
            assert_eq!(m.patched, ["charts/dep-1.0.0.tgz"]);
        }
        // Deleted here, changed upstream: a conflict.
        let ours = files(&[("Chart.yaml", "name: x\nversion: 1.0.0\n")]);
        let theirs = files(&[
            ("Chart.yaml", "name: x\nversion: 1.0.0\n"),
            ("old.txt", "new\n"),
        ]);
        let m = folder(Some(&base), &ours, &theirs, false);
        assert_eq!(m.conflicts[0].reason, "deleted here, changed upstream");
    }

    #[test]
    fn an_unmoved_upstream_keeps_every_local_edit_and_no_base_takes_theirs() {
        let base = files(&[("Chart.yaml", "name: x\nversion: 1.0.0\n")]);
        let ours = files(&[("Chart.yaml", "name: x\nversion: 1.0.1\n")]);
        let m = folder(Some(&base), &ours, &base, false);
        assert_eq!(m.files, ours);
        assert_eq!(m.patched, ["Chart.yaml"]);
        let m = folder(None, &ours, &base, false);
        assert_eq!(m.files, base);
        assert!(m.patched.is_empty());
    }

    #[test]
    fn chart_versions_changed_on_both_sides_take_the_higher() {
        let base = files(&[("Chart.yaml", "name: x\nversion: 2.15.0\nappVersion: 1\n")]);
        let ours = files(&[("Chart.yaml", "name: x\nversion: 2.15.1\nappVersion: 1\n")]);
        let theirs = files(&[("Chart.yaml", "name: x\nversion: 2.16.0\nappVersion: 2\n")]);
        let m = folder(Some(&base), &ours, &theirs, false);
        assert!(m.conflicts.is_empty(), "{:?}", m.conflicts);
        assert_eq!(
            text(&m, "Chart.yaml"),
            "name: x\nversion: 2.16.0\nappVersion: 2\n"
        );
        let theirs = files(&[(
            "Chart.yaml",
            "name: x\nversion: 2.15.0-rc.1\nappVersion: 1\n",
        )]);
        let m = folder(Some(&base), &ours, &theirs, false);
        assert_eq!(
            text(&m, "Chart.yaml"),
            "name: x\nversion: 2.15.1\nappVersion: 1\n"
        );
    }
}
