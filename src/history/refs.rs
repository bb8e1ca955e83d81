//! The refs history questions are about: release tags, hotfix tags, release-line and OEM branches.

use anyhow::Result;
use serde::Serialize;

use crate::lines::Templates;
use crate::versions;

/// What a [`ReleaseRef`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RefKind {
    /// A product release tag (`v2.10.2`, DOMAIN.md step 3).
    Release,
    /// A hotfix tag (`<release.hotfixTagPrefix>v2.10.2-20261122-p1`, DOMAIN.md step 7).
    Hotfix,
    /// A release-line or OEM branch under `release.branchTemplate` / `release.oemBranchTemplate`
    /// (DOMAIN.md step 4), local or remote-tracking.
    Branch,
}

/// One release tag, hotfix tag or release branch, peeled to its commit.
#[derive(Debug, Clone)]
pub struct ReleaseRef {
    /// Short name as git prints it: `v2.10.2`, `hotfix/v2.10.2-20261122-p1`, `release-2.10`,
    /// `origin/release-2.10`.
    pub name: String,
    /// Release, hotfix or branch.
    pub kind: RefKind,
    /// The product version (releases) or hotfix version (hotfixes); `None` for branches.
    pub version: Option<semver::Version>,
    /// Release line `MAJOR.MINOR`.
    pub line: String,
    /// Customer of an OEM branch.
    pub customer: Option<String>,
    /// The commit the ref peels to.
    pub commit: gix::ObjectId,
    /// Seconds since the epoch: the tagger's time for an annotated tag, else the commit's.
    pub time: i64,
}

/// Where a release or hotfix sorts: [`versions::release_order`] of its version (`None` for a
/// branch), then its name.
pub type Order<'a> = (Option<(semver::Version, Option<(String, u32)>)>, &'a str);

impl ReleaseRef {
    /// Sort key of releases and hotfixes ([`versions::release_order`]), then the name.
    pub fn order(&self) -> Order<'_> {
        (
            self.version.as_ref().map(versions::release_order),
            self.name.as_str(),
        )
    }
}

/// Every release tag (a SemVer tag that is not a hotfix version) and every hotfix tag (under
/// `hotfix_prefix`), oldest release first ([`ReleaseRef::order`]). Tags that do not peel to a
/// commit are skipped.
///
/// Errors: refs or objects that cannot be read.
pub fn tags(repo: &gix::Repository, hotfix_prefix: &str) -> Result<Vec<ReleaseRef>> {
    let mut out = Vec::new();
    for r in repo.references()?.tags()? {
        let Some(mut r) = crate::git::listed(r) else {
            continue;
        };
        let name = r.name().shorten().to_string();
        let (kind, version) = match versions::release_version(&name) {
            Some(v) => (RefKind::Release, v),
            None => match name
                .strip_prefix(hotfix_prefix)
                .filter(|_| !hotfix_prefix.is_empty())
                .and_then(|s| versions::parse_tag(s, None))
                .filter(versions::is_hotfix_version)
            {
                Some(v) => (RefKind::Hotfix, v),
                None => continue,
            },
        };
        // A symbolic tag has no object of its own: its target is what it peels to.
        let target = r.try_id().map(|id| id.detach());
        let Some(commit) = crate::git::ref_commit(&mut r) else {
            continue;
        };
        let target = target.unwrap_or(commit.id);
        let mut time = commit.time().map_or(0, |t| t.seconds);
        if target != commit.id {
            if let Ok(tag) = repo
                .find_object(target)
                .map_err(anyhow::Error::from)
                .and_then(|o| Ok(o.try_into_tag()?))
            {
                if let Ok(Some(s)) = tag.tagger() {
                    time = s.seconds();
                }
            }
        }
        out.push(ReleaseRef {
            name,
            kind,
            line: format!("{}.{}", version.major, version.minor),
            version: Some(version),
            customer: None,
            commit: commit.id,
            time,
        });
    }
    out.sort_by(|a, b| a.order().cmp(&b.order()));
    Ok(out)
}

/// Release-line and OEM branches (names the templates give, [`Templates::classify`]): local
/// branches, then remote-tracking ones (`origin/release-2.10`), each sorted by line, customer and
/// name.
///
/// Errors: refs or objects that cannot be read.
pub fn branches(repo: &gix::Repository, templates: &Templates) -> Result<Vec<ReleaseRef>> {
    let mut out = Vec::new();
    let platform = repo.references()?;
    let local = platform.local_branches()?.map(|r| (r, false));
    let remote = platform.remote_branches()?.map(|r| (r, true));
    for (r, is_remote) in local.chain(remote) {
        let Some(mut r) = crate::git::listed(r) else {
            continue;
        };
        let name = r.name().shorten().to_string();
        // `origin/release-2.10`: the template applies to the part after the remote's name.
        let branch = if is_remote {
            match name.split_once('/') {
                Some((_, b)) => b,
                None => continue,
            }
        } else {
            name.as_str()
        };
        let Some(t) = templates.classify(branch) else {
            continue;
        };
        let Some(commit) = crate::git::ref_commit(&mut r) else {
            continue;
        };
        out.push((
            is_remote,
            ReleaseRef {
                line: t.line(),
                customer: t.customer.clone(),
                kind: RefKind::Branch,
                version: None,
                commit: commit.id,
                time: commit.time().map_or(0, |t| t.seconds),
                name,
            },
        ));
    }
    out.sort_by_key(|(is_remote, r)| {
        let t = crate::lines::Target::parse(&r.line).ok();
        (
            *is_remote,
            t.map(|t| (t.major, t.minor)),
            r.customer.clone(),
            r.name.clone(),
        )
    });
    Ok(out.into_iter().map(|(_, r)| r).collect())
}
