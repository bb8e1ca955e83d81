//! Hermetic test repositories and a runner for the installed executables (git-branchless style).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The example built by fixtures/make_example.sh, once: under cargo's `CARGO_TARGET_TMPDIR`,
/// keyed by the fixture scripts' content and the git version, so a later run (or another test
/// binary) reuses it; built into a temporary folder and renamed into place, so a run that is
/// killed or races another leaves no half-built example.
fn example_template() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE.get_or_init(|| built_fixture("make_example.sh", "example", "platform-release"))
}

fn caicloud_template() -> &'static Path {
    static TEMPLATE: OnceLock<PathBuf> = OnceLock::new();
    TEMPLATE
        .get_or_init(|| built_fixture("make_caicloud_example.sh", "caicloud", "compass-release"))
}

/// The output of fixture script `script`, built once per content of the fixtures and git version
/// under the target's temporary folder (`<prefix>-<hash>`), `repo` naming its platform repository.
fn built_fixture(script: &str, prefix: &str, repo: &str) -> PathBuf {
    use std::hash::{Hash, Hasher};
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let sb = Sandbox::new();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for name in [script, "make_component_repos.sh", "lib.sh"] {
        std::fs::read(fixtures.join(name))
            .unwrap_or_default()
            .hash(&mut h);
    }
    sb.git(sb.dir.path(), &["--version"]).hash(&mut h);
    let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let done = root.join(format!("{prefix}-{:016x}", h.finish()));
    if done.join(repo).join(".git").is_dir() {
        return done;
    }
    let building = root.join(format!("{prefix}-{}.building", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    let out = sb
        .cmd("bash", sb.dir.path())
        .arg(fixtures.join(script))
        .arg(&building)
        .output()
        .unwrap_or_else(|e| panic!("run {script}: {e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if std::fs::rename(&building, &done).is_err() {
        // Another process put its copy in place first; the two are identical.
        let _ = std::fs::remove_dir_all(&building);
    }
    done
}

/// Where sandboxes are made: a memory file system (`/dev/shm`) when there is one, else the
/// system's temporary folder. The repositories are as real on one as on the other, and a test
/// makes hundreds of folders and files: on this project's CI disk each `mkdir` took over a
/// millisecond, and one test 1.0 s instead of 0.24 s.
pub fn temp_root() -> PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let usable = shm.is_dir() && tempfile::tempdir_in(shm).is_ok();
        if usable {
            shm.to_path_buf()
        } else {
            std::env::temp_dir()
        }
    })
    .clone()
}

/// A temporary sandbox with its own HOME and a PATH that starts with cargo's target dir.
pub struct Sandbox {
    pub dir: tempfile::TempDir,
    /// Where the installed executables are (first on PATH).
    pub bin_dir: PathBuf,
}

impl Sandbox {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("git-release-test")
            .tempdir_in(temp_root())
            .expect("tempdir");
        let bin = PathBuf::from(env!("CARGO_BIN_EXE_git-release"));
        let bin_dir = bin.parent().expect("bin dir").to_path_buf();
        Sandbox { dir, bin_dir }
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// A command with the hermetic environment: no system/global git config, fixed identity and
    /// dates, UTC, C locale, the target dir first on PATH.
    pub fn cmd(&self, program: &str, cwd: &Path) -> Command {
        let mut c = Command::new(program);
        let path = format!(
            "{}:{}",
            self.bin_dir.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        c.current_dir(cwd)
            .env_clear()
            .env("PATH", path)
            .env("HOME", self.dir.path())
            .env("GIT_CONFIG_NOSYSTEM", "1")
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env("GIT_AUTHOR_NAME", "Release Bot")
            .env("GIT_AUTHOR_EMAIL", "bot@example.com")
            .env("GIT_COMMITTER_NAME", "Release Bot")
            .env("GIT_COMMITTER_EMAIL", "bot@example.com")
            .env("GIT_AUTHOR_DATE", "2026-01-01T00:00:00Z")
            .env("GIT_COMMITTER_DATE", "2026-01-01T00:00:00Z")
            .env("TZ", "UTC")
            .env("LC_ALL", "C");
        c
    }

    /// Run `git <args>` in `cwd`, panicking on failure; returns stdout.
    pub fn git(&self, cwd: &Path, args: &[&str]) -> String {
        let out = self.cmd("git", cwd).args(args).output().expect("run git");
        assert!(
            out.status.success(),
            "git {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Run `git release <args>` in `cwd` the way a user does (through git's dispatch).
    pub fn release(&self, cwd: &Path, args: &[&str]) -> Run {
        let out = self
            .cmd("git", cwd)
            .arg("release")
            .args(args)
            .output()
            .expect("run git release");
        Run::from(out)
    }

    /// The shipped example (fixtures/make_example.sh) under `ex/`; returns its
    /// platform-release repository (component repositories under `ex/components/`).
    ///
    /// The script runs once per test binary (gix-testtools' read-only fixture idea); each test
    /// gets its own copy (`cp -a`), so tests still write to real, separate repositories. The
    /// script's fixed identities and dates make the copy identical to a fresh build, and its
    /// component URLs are relative, so the copy works wherever it lands.
    pub fn example(&self) -> Repo<'_> {
        self.copy_of(example_template(), "ex");
        Repo::open(self, "ex/platform-release")
    }

    /// The second shipped example, in the caicloud layout (fixtures/make_caicloud_example.sh),
    /// under `cc/`; returns its `compass-release` repository. Built once, copied per test.
    pub fn caicloud_example(&self) -> Repo<'_> {
        self.copy_of(caicloud_template(), "cc");
        Repo::open(self, "cc/compass-release")
    }

    fn copy_of(&self, template: &Path, rel: &str) {
        let out = self
            .cmd("cp", self.dir.path())
            .arg("-a")
            .arg(template)
            .arg(self.path(rel))
            .output()
            .expect("run cp");
        assert!(
            out.status.success(),
            "copying the example: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    /// The raw manifest skopeo reads at `reference` (`docker://host/name:tag`, `oci:DIR:NAME`;
    /// plain HTTP to registries), as an independent reader of what git-release wrote or pushed.
    /// Panics, with skopeo's error, when skopeo cannot read it.
    pub fn skopeo_raw(&self, reference: &str) -> Vec<u8> {
        let out = self
            .cmd("skopeo", self.dir.path())
            .args(["inspect", "--raw", "--tls-verify=false"])
            .arg(reference)
            .output()
            .expect("skopeo (Debian package skopeo; .ci/run installs it)");
        assert!(
            out.status.success(),
            "skopeo cannot read {reference}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    }

    /// Names of the entries of a tar archive, gzipped or not (GNU tar detects it).
    pub fn tar_names(&self, archive: &Path) -> Vec<String> {
        let out = self
            .cmd("tar", self.dir.path())
            .arg("-tf")
            .arg(archive)
            .output()
            .unwrap();
        assert!(out.status.success(), "tar -tf {}", archive.display());
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }

    /// Extract a tar archive, gzipped or not, into `dest` (created).
    pub fn untar(&self, archive: &Path, dest: &Path) {
        std::fs::create_dir_all(dest).unwrap();
        let st = self
            .cmd("tar", dest)
            .arg("-xf")
            .arg(archive)
            .status()
            .unwrap();
        assert!(st.success(), "tar -xf {}", archive.display());
    }

    /// A platform repo at `platform` whose components are fetched from `components/{name}` of
    /// this sandbox, with `repos` (`(path, text)`) and an empty image list, committed.
    pub fn platform(&self, repos: &[(&str, &str)]) -> Repo<'_> {
        let mut p = self.repo("platform");
        p.write(
            ".gitrelease",
            &format!(
                "[release]\n\tproduct = demo\n\tcomponentUrl = {}/components/{{name}}\n",
                self.dir.path().display()
            ),
        );
        for (path, text) in repos {
            p.write(path, text);
        }
        p.write("images/images_platform.list", "");
        p.commit("layout");
        p
    }

    /// Create a non-bare repository at `rel` on branch main.
    pub fn repo(&self, rel: &str) -> Repo<'_> {
        let path = self.path(rel);
        std::fs::create_dir_all(&path).unwrap();
        self.git(&path, &["init", "-q", "-b", "main"]);
        Repo {
            sb: self,
            path,
            tick: 0,
        }
    }

    /// `git clone -q` of `from` to `rel` (a user's second clone: its own `.git`, no caches).
    pub fn clone_repo(&self, from: &Path, rel: &str) -> Repo<'_> {
        let to = self.path(rel);
        self.git(
            self.dir.path(),
            &["clone", "-q", from.to_str().unwrap(), to.to_str().unwrap()],
        );
        Repo::open(self, rel)
    }
}

/// Output of one run.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
    /// The largest resident set of the process and the descendants it waited for, in bytes
    /// (`wait4`'s `ru_maxrss`), when measured ([`Repo::release_measured`]).
    pub peak_rss: Option<u64>,
}

impl From<Output> for Run {
    fn from(o: Output) -> Self {
        Run {
            code: o.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
            peak_rss: None,
        }
    }
}

/// Run `c` to the end, its output read on two threads, and reap it with `wait4` to learn the
/// peak resident set of its process tree (git, git-release, git-release-CMD).
#[allow(clippy::zombie_processes)] // reaped by wait4, which std cannot do
pub fn run_measured(mut c: std::process::Command) -> Run {
    use std::io::Read;
    use std::process::Stdio;
    let mut child = c
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = out.read_to_end(&mut v);
        v
    });
    let t_err = std::thread::spawn(move || {
        let mut v = Vec::new();
        let _ = err.read_to_end(&mut v);
        v
    });
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value; wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = child.id() as libc::pid_t;
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    Run {
        code,
        stdout: String::from_utf8_lossy(&t_out.join().unwrap()).into_owned(),
        stderr: String::from_utf8_lossy(&t_err.join().unwrap()).into_owned(),
        peak_rss: Some(usage.ru_maxrss as u64 * 1024),
    }
}

impl Run {
    /// Assert the run was measured and its process tree never held `bytes` or more.
    #[track_caller]
    pub fn peak_rss_below(&self, bytes: u64) -> &Self {
        let peak = self.peak_rss.expect("a run of release_measured");
        assert!(
            peak < bytes,
            "peak RSS {} MiB, not below {} MiB\nstderr:\n{}",
            peak >> 20,
            bytes >> 20,
            self.stderr
        );
        self
    }

    /// Assert that stdout contains `needle`, showing stdout when it does not.
    #[track_caller]
    pub fn out_has(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout lacks {needle:?}:\n{}",
            self.stdout
        );
        self
    }
    /// Assert that stderr contains `needle`, showing stderr when it does not.
    #[track_caller]
    pub fn err_has(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{}",
            self.stderr
        );
        self
    }
    /// Assert that stderr does not contain `needle`.
    #[track_caller]
    pub fn err_lacks(&self, needle: &str) -> &Self {
        assert!(
            !self.stderr.contains(needle),
            "stderr has {needle:?}:\n{}",
            self.stderr
        );
        self
    }
    #[track_caller]
    pub fn ok(self) -> Self {
        assert_eq!(
            self.code, 0,
            "expected success\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
    #[track_caller]
    pub fn fails(self, code: i32) -> Self {
        assert_eq!(
            self.code, code,
            "expected exit {code}\nstdout:\n{}\nstderr:\n{}",
            self.stdout, self.stderr
        );
        self
    }
}

/// A repository under test.
pub struct Repo<'a> {
    pub sb: &'a Sandbox,
    pub path: PathBuf,
    tick: u32,
}

impl<'a> Repo<'a> {
    /// An existing repository at `rel`; its next commit is dated far enough after the fixtures'.
    pub fn open(sb: &'a Sandbox, rel: &str) -> Self {
        Repo {
            sb,
            path: sb.path(rel),
            tick: 20,
        }
    }
    pub fn write(&self, rel: &str, content: &str) -> &Self {
        let p = self.path.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
        self
    }
    pub fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path.join(rel))
            .unwrap_or_else(|e| panic!("reading {rel}: {e}"))
    }
    pub fn exists(&self, rel: &str) -> bool {
        std::fs::symlink_metadata(self.path.join(rel)).is_ok()
    }
    pub fn remove(&self, rel: &str) -> &Self {
        let p = self.path.join(rel);
        if p.is_dir() {
            std::fs::remove_dir_all(p).unwrap();
        } else {
            std::fs::remove_file(p).unwrap();
        }
        self
    }
    pub fn git(&self, args: &[&str]) -> String {
        self.sb.git(&self.path, args)
    }
    /// Commit everything with a date one hour after the previous commit.
    pub fn commit(&mut self, msg: &str) -> String {
        self.tick += 1;
        let date = format!("2026-01-01T{:02}:00:00Z", self.tick.min(23));
        self.git(&["add", "-A"]);
        let out = self
            .sb
            .cmd("git", &self.path)
            .env("GIT_AUTHOR_DATE", &date)
            .env("GIT_COMMITTER_DATE", &date)
            .args(["commit", "-q", "--allow-empty", "-m", msg])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        self.git(&["rev-parse", "HEAD"]).trim().to_string()
    }
    pub fn tag(&self, name: &str) -> &Self {
        self.git(&["tag", name]);
        self
    }
    pub fn tag_annotated(&self, name: &str) -> &Self {
        self.git(&["tag", "-a", "-m", &format!("release {name}"), name]);
        self
    }
    pub fn release(&self, args: &[&str]) -> Run {
        self.sb.release(&self.path, args)
    }
    /// [`Repo::release`], measuring the peak resident set of the process tree
    /// ([`run_measured`]).
    pub fn release_measured(&self, args: &[&str]) -> Run {
        let mut c = self.sb.cmd("git", &self.path);
        c.arg("release").args(args);
        run_measured(c)
    }
    /// The one `.tar.gz` package written into `dir` (relative to the repository).
    #[track_caller]
    pub fn package_in(&self, dir: &str) -> PathBuf {
        std::fs::read_dir(self.path.join(dir))
            .unwrap()
            .flatten()
            .map(|e| e.path())
            .find(|f| f.to_string_lossy().ends_with(".tar.gz"))
            .unwrap_or_else(|| panic!("no package in {dir}"))
    }
    /// `git -c KEY=VALUE… release ARGS…`: settings given on git's command line.
    pub fn release_c(&self, config: &[&str], args: &[&str]) -> Run {
        let mut c = self.sb.cmd("git", &self.path);
        for kv in config {
            c.args(["-c", kv]);
        }
        Run::from(
            c.arg("release")
                .args(args)
                .output()
                .expect("run git release"),
        )
    }
    pub fn status(&self) -> String {
        self.git(&["status", "--porcelain", "--untracked-files=all"])
    }
}

/// The version of helm-python-sdk (Helm's Go SDK behind a C ABI, Helm v4) the tests ask.
const HELM_PYTHON_SDK: &str = "helm-python-sdk==0.2.2";

/// A virtualenv with real Helm (helm-python-sdk), made once under cargo's `CARGO_TARGET_TMPDIR`
/// (`python3 -m venv`, then `pip install`), into a temporary folder renamed into place so that a
/// killed or racing run leaves no half-made one. Returns its python.
pub fn helm_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| venv("helm-venv", HELM_PYTHON_SDK))
}

/// The CycloneDX project's Python library with its JSON schema validator: an independent check
/// of the SBOMs git-release writes.
const CYCLONEDX_PYTHON_LIB: &str = "cyclonedx-python-lib[json-validation]==11.12.0";

/// A virtualenv with `cyclonedx-python-lib` ([`venv`]); returns its python.
pub fn cyclonedx_python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| venv("cyclonedx-venv", CYCLONEDX_PYTHON_LIB))
}

/// Validate the CycloneDX 1.5 JSON at `path` with cyclonedx-python-lib's JSON schema validator:
/// the validator's complaint, or `None` when it finds none.
pub fn cyclonedx_invalid(path: &Path) -> Option<String> {
    const SCRIPT: &str = r#"
import sys
from cyclonedx.schema import SchemaVersion
from cyclonedx.validation.json import JsonStrictValidator
err = JsonStrictValidator(SchemaVersion.V1_5).validate_str(open(sys.argv[1]).read())
print(err or "")
"#;
    let out = python(cyclonedx_python(), SCRIPT, [path], "the validator failed");
    let said = String::from_utf8_lossy(&out).trim().to_string();
    (!said.is_empty()).then_some(said)
}

/// A virtualenv named `name-<package>` with `package` installed, made once under cargo's
/// `CARGO_TARGET_TMPDIR` (`python3 -m venv`, then `pip install`), into a temporary folder
/// renamed into place so that a killed or racing run leaves no half-made one. Returns its
/// python.
fn venv(name: &str, package: &str) -> PathBuf {
    {
        let root = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let tag: String = package
            .replace("==", "-")
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                    c
                } else {
                    '-'
                }
            })
            .collect();
        let done = root.join(format!("{name}-{tag}"));
        let python = done.join("bin/python");
        if python.is_file() {
            return python;
        }
        let making = root.join(format!("{name}.{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&making);
        let run = |cmd: &mut Command| {
            let out = cmd.output().expect("python3 must be installed (.ci/run)");
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        run(Command::new("python3").args(["-m", "venv"]).arg(&making));
        run(Command::new(making.join("bin/pip")).args([
            "install",
            "-q",
            "--disable-pip-version-check",
            package,
        ]));
        if std::fs::rename(&making, &done).is_err() {
            let _ = std::fs::remove_dir_all(&making);
        }
        python
    }
}

/// Load each chart archive with real Helm and render it as `helm template` does (an install with
/// a client-side dry run: Helm's own dependency check, then every template): `(archive, error)`
/// for each archive Helm refuses; empty when Helm takes them all.
pub fn helm_refuses(archives: &[PathBuf]) -> Vec<(PathBuf, String)> {
    const SCRIPT: &str = r#"
import json, sys, helm_python as helm
out = []
for path in sys.argv[1:]:
    try:
        with open(path, "rb") as f:
            data = f.read()
        with helm.Chart.load_archive(data) as chart:
            cfg = helm.Config(namespace="default", storage_driver="memory")
            cfg.install(chart, "release-test", dry_run="client")
    except Exception as e:
        out.append([path, f"{type(e).__name__}: {e}"])
print(json.dumps(out))
"#;
    assert!(!archives.is_empty(), "no chart archive to give Helm");
    let out = python(helm_python(), SCRIPT, archives, "the Helm script failed");
    let refused: Vec<(String, String)> = serde_json::from_slice(&out).unwrap();
    refused
        .into_iter()
        .map(|(p, e)| (PathBuf::from(p), e))
        .collect()
}

/// The manifests real Helm renders from each chart archive (as `helm template` does, with the
/// chart's default values), in order; panics naming any archive Helm refuses.
pub fn helm_render(archives: &[PathBuf]) -> Vec<String> {
    const SCRIPT: &str = r#"
import json, sys, helm_python as helm
out = []
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        data = f.read()
    with helm.Chart.load_archive(data) as chart:
        cfg = helm.Config(namespace="default", storage_driver="memory")
        out.append(cfg.install(chart, "release-test", dry_run="client").get("manifest", ""))
print(json.dumps(out))
"#;
    assert!(!archives.is_empty(), "no chart archive to give Helm");
    let out = python(helm_python(), SCRIPT, archives, "Helm refused a chart");
    serde_json::from_slice(&out).unwrap()
}

/// Run `script` with the virtualenv's `python` and `args` (HOME a temporary folder); its
/// stdout, or a panic with `what` and its stderr.
fn python<A: AsRef<std::ffi::OsStr>>(
    python: &Path,
    script: &str,
    args: impl IntoIterator<Item = A>,
    what: &str,
) -> Vec<u8> {
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .args(args)
        .env("HOME", std::env::temp_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}
