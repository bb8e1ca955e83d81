//! Test repositories built in process with gix: a real object database, real refs and a real
//! index in a temporary folder, no `git` process and no mocks. Commits have a fixed identity and
//! a time one hour after the one before, so ids are the same on every run. For unit tests of
//! each command's `plan` (jj's `TestRepo`, git-branchless' plan tests); the end-to-end tests in
//! `tests/` run the executables through real git.

use std::path::Path;

/// A non-bare repository on branch `main` in a temporary folder (removed when dropped).
pub(crate) struct TestRepo {
    dir: tempfile::TempDir,
    /// Commits made so far (their time is 2026-01-01 plus one hour each).
    commits: i64,
}

impl TestRepo {
    /// An empty repository with an identity in its config and `HEAD` on `main`.
    pub(crate) fn new() -> Self {
        let shm = Path::new("/dev/shm");
        let dir = if shm.is_dir() {
            tempfile::tempdir_in(shm).or_else(|_| tempfile::tempdir())
        } else {
            tempfile::tempdir()
        }
        .expect("a temporary folder");
        gix::init(dir.path()).expect("git init");
        let config = dir.path().join(".git/config");
        let mut text = std::fs::read_to_string(&config).expect("the new config");
        text.push_str("[user]\n\tname = Release Bot\n\temail = bot@example.com\n");
        std::fs::write(&config, text).expect("writing the config");
        std::fs::write(dir.path().join(".git/HEAD"), "ref: refs/heads/main\n").expect("HEAD");
        TestRepo { dir, commits: 0 }
    }

    /// The work tree root.
    pub(crate) fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The repository, opened as the commands open theirs (no replace refs), isolated from the
    /// machine's git configuration.
    pub(crate) fn repo(&self) -> gix::Repository {
        let mut repo = gix::open_opts(self.path(), gix::open::Options::isolated())
            .expect("opening the test repository");
        crate::git::without_replacements(&mut repo);
        repo
    }

    /// Write `content` at work-tree path `rel` (folders created).
    pub(crate) fn write(&self, rel: &str, content: &str) -> &Self {
        let path = self.path().join(rel);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
        std::fs::write(path, content).expect("write");
        self
    }

    /// The text at work-tree path `rel`.
    pub(crate) fn read(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path().join(rel)).expect("read")
    }

    /// Commit the whole work tree (as `git add -A && git commit`) on top of HEAD, set the index
    /// to it, and return the commit id.
    pub(crate) fn commit(&mut self, message: &str) -> gix::ObjectId {
        self.commits += 1;
        let repo = self.repo();
        let files = crate::git::read_worktree(self.path()).expect("reading the work tree");
        let mut ed = repo
            .edit_tree(gix::ObjectId::empty_tree(repo.object_hash()))
            .expect("a tree editor");
        for (rel, e) in files.iter().filter(|(rel, _)| !rel.starts_with(".git/")) {
            let id = repo.write_blob(&e.data).expect("a blob").detach();
            ed.upsert(rel.as_str(), e.kind.entry_kind(), id)
                .expect("a tree entry");
        }
        let tree = ed.write().expect("the tree").detach();
        let time = gix::date::Time::new(1_767_225_600 + 3600 * self.commits, 0);
        let who = gix::actor::Signature {
            name: "Release Bot".into(),
            email: "bot@example.com".into(),
            time,
        };
        let parents: Vec<gix::ObjectId> = repo
            .head_id()
            .ok()
            .map(|id| id.detach())
            .into_iter()
            .collect();
        let (mut b1, mut b2) = (Default::default(), Default::default());
        let id = repo
            .commit_as(
                who.to_ref(&mut b1),
                who.to_ref(&mut b2),
                "HEAD",
                message,
                tree,
                parents,
            )
            .expect("the commit")
            .detach();
        let mut index = repo.index_from_tree(&tree).expect("the index");
        index.write(Default::default()).expect("writing the index");
        id
    }

    /// A lightweight tag `name` on HEAD.
    pub(crate) fn tag(&self, name: &str) -> &Self {
        let repo = self.repo();
        let head = repo.head_id().expect("a commit").detach();
        repo.reference(
            format!("refs/tags/{name}").as_str(),
            head,
            gix::refs::transaction::PreviousValue::MustNotExist,
            "tag",
        )
        .expect("the tag");
        self
    }
}
