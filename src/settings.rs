//! Settings layered as git does: built-in defaults < committed `.gitrelease` < `git config release.*` < flags.

use std::path::Path;

use anyhow::{Context, Result};

use crate::error::UserError;

/// Name of the committed settings file at the repository root (git-config syntax, like git-lfs's `.lfsconfig`).
pub const SETTINGS_FILE: &str = ".gitrelease";

/// Default `release.componentUrl`: how `repositoryFullName` (`owner/name`) becomes a fetch URL.
pub const DEFAULT_COMPONENT_URL: &str = "https://github.com/{repo}.git";

/// Resolved settings of one platform-release repository.
///
/// Paths are relative to the work tree root, with `/` separators, no leading or trailing `/`
/// (`.` or empty means the root).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `release.product`: product name used in package names; default the repo folder's name.
    pub product: String,
    /// `release.addonsPath`: where collected charts live (default `addons`).
    pub addons_path: String,
    /// `release.reposPath`: where the component lists are: folders of `*.yaml` repos files, or
    /// repos files themselves (`charts_list.yaml`), several separated by spaces or commas
    /// (default `repos`). Stored normalized, separated by one space; [`repos_paths`] splits it.
    pub repos_path: String,
    /// `release.imagesPath`: folder of `images_*.list` files (default `images`).
    pub images_path: String,
    /// `release.versionFile`: the product's addon version file (default `version.yml`).
    pub version_file: String,
    /// `release.pluginsPath`: folder of the plugin files, one YAML file a plugin (default
    /// `release-plugins`; seed 001).
    pub plugins_path: String,
    /// `release.componentUrl`: template with `{repo}`, `{owner}`, `{name}` (default [`DEFAULT_COMPONENT_URL`]).
    pub component_url: String,
    /// `release.hotfixTagPrefix`: namespace of hotfix tags (default `hotfix/`), so that a hotfix
    /// version (`v2.10.2-20261122-p1`, a SemVer pre-release) is never read as a product release.
    pub hotfix_tag_prefix: String,
    /// `release.kubeVersion`: the Kubernetes version charts are rendered for
    /// (`.Capabilities.KubeVersion`), `vMAJOR.MINOR.PATCH`; default
    /// [`crate::versions::DEFAULT_KUBE_VERSION`].
    pub kube_version: String,
    /// `release.renderCache`: keep the images found in each rendered chart under
    /// `.git/release/cache/render/` ([`crate::image::cache`]); default `true`. `false`, `no`,
    /// `off` or `0` turns it off, as commands' `--no-cache` does for one run.
    pub render_cache: bool,
    /// The bounds of inputs, registry reads and renders (`release.maxYamlSize`,
    /// `release.maxManifestSize`, `release.maxBlobSize`, `release.renderMaxSteps`,
    /// `release.renderMaxOutput`, `release.renderMaxValue`; sizes as git writes integers, `32m`),
    /// put in force for the process by [`Settings::load`] ([`crate::limits`]).
    pub limits: crate::limits::Limits,
    /// `release.layout`: which of the two repository layouts of the seeds the defaults follow
    /// ([`Layout`]); default `helm`.
    pub layout: Layout,
    /// `release.targetPathBase`: the folder a repos entry's `targetPath` and `targetChartPath`
    /// are relative to (default the root; `addons` in the caicloud layout, where seed 000's
    /// `targetPath: console` is the group folder `addons/console`).
    pub target_base: String,
    /// `release.placeholderProjects`: install-time registry placeholders and the registry
    /// project each stands for (`registry_release=release registry_library=library` in the
    /// caicloud layout, where `[[ registry_release ]]/app-admin:v1` is the image
    /// `release/app-admin:v1`); empty in the helm layout, where the project is part of the path.
    pub placeholder_projects: Vec<(String, String)>,
    /// `release.tagsFile`: a file that records the collected tag of each component (`tag:`),
    /// apart from the repos files (the caicloud layout's `release_charts.yaml`, seed 000);
    /// empty (the helm layout's default) keeps it in each entry's `currentTag`.
    pub tags_file: String,
    /// `release.productFiles`: the product description files (seed 000's `compass.yaml`,
    /// `mini-compass.yaml`, and `oem.yaml` on OEM branches), work-tree relative; those absent
    /// from a tree are skipped. Empty in the helm layout, where version.yml has that role.
    pub product_files: Vec<String>,
}

/// The repository layouts the seeds describe (`release.layout`, `git release init --layout`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    /// Helm charts under `addons/`, `repos/*.yaml`, `version.yml`, `images/` (seed 002).
    #[default]
    Helm,
    /// The seeds' own product (seed 000, 001): single-file release YAMLs under
    /// `addons/<group>/`, `charts_list.yaml` at the root with `targetPath` under `addons/`,
    /// `compass.yaml` and `mini-compass.yaml`, `images-lists/`, images named by project.
    Caicloud,
}

impl Layout {
    /// Parse `helm` or `caicloud` (any case).
    pub fn parse(v: &str) -> Option<Layout> {
        match v.trim().to_ascii_lowercase().as_str() {
            "helm" => Some(Layout::Helm),
            "caicloud" => Some(Layout::Caicloud),
            _ => None,
        }
    }

    /// `helm` or `caicloud`.
    pub fn name(self) -> &'static str {
        match self {
            Layout::Helm => "helm",
            Layout::Caicloud => "caicloud",
        }
    }
}

/// Where repos entries' targets are relative to: `release.addonsPath` (the default target)
/// and `release.targetPathBase` (what `targetPath`/`targetChartPath` are relative to).
/// Built by [`Settings::targets`].
#[derive(Debug, Clone, Copy)]
pub struct Targets<'a> {
    /// The addons path, where an entry without a target lands.
    pub addons: &'a str,
    /// The folder targets are relative to (`""` for the root).
    pub base: &'a str,
}

impl Targets<'_> {
    /// The work-tree folder of an entry's target field (`None`: the addons path).
    ///
    /// Errors: a target that is absolute or has `..` parts.
    pub fn folder(&self, target: Option<&str>) -> anyhow::Result<String> {
        Ok(match target {
            Some(t) => match normalize_rel_path(t)? {
                t if t.is_empty() => self.base.to_string(),
                t => crate::files::join(self.base, &t),
            },
            None => self.addons.to_string(),
        })
    }
}

/// Flag overrides; `None` keeps the value from the lower layers.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--product`
    pub product: Option<String>,
    /// `--component-url`
    pub component_url: Option<String>,
    /// `--no-cache`: render every chart this run (`release.renderCache=false` for one run).
    pub no_render_cache: bool,
}

const KEYS: &[&str] = &[
    "product",
    "addonsPath",
    "reposPath",
    "imagesPath",
    "versionFile",
    "componentUrl",
    "hotfixTagPrefix",
    "kubeVersion",
    "renderCache",
    "pluginsPath",
    "targetPathBase",
    "tagsFile",
];

impl Settings {
    /// Built-in defaults for a work tree at `workdir`.
    pub fn defaults(workdir: &Path) -> Self {
        let product = workdir
            .canonicalize()
            .unwrap_or_else(|_| workdir.to_path_buf())
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "platform".into());
        Settings {
            product,
            addons_path: "addons".into(),
            repos_path: "repos".into(),
            images_path: "images".into(),
            version_file: "version.yml".into(),
            plugins_path: "release-plugins".into(),
            component_url: DEFAULT_COMPONENT_URL.into(),
            hotfix_tag_prefix: "hotfix/".into(),
            kube_version: crate::versions::DEFAULT_KUBE_VERSION.into(),
            render_cache: true,
            limits: crate::limits::Limits::DEFAULT,
            layout: Layout::Helm,
            target_base: String::new(),
            placeholder_projects: Vec::new(),
            product_files: Vec::new(),
            tags_file: String::new(),
        }
    }

    /// Built-in defaults of `layout` for a work tree at `workdir`: the helm layout's are
    /// [`Settings::defaults`]; the caicloud layout reads `charts_list.yaml` with `targetPath`
    /// under `addons/`, keeps its image lists in `images-lists/`, has no version.yml (its
    /// product description files have that role) and names images by project.
    pub fn layout_defaults(workdir: &Path, layout: Layout) -> Self {
        let mut s = Settings::defaults(workdir);
        s.layout = layout;
        if layout == Layout::Caicloud {
            s.repos_path = "charts_list.yaml".into();
            s.images_path = "images-lists".into();
            s.version_file = String::new();
            s.target_base = "addons".into();
            s.tags_file = "release_charts.yaml".into();
            s.placeholder_projects = vec![
                ("registry_release".into(), "release".into()),
                ("registry_library".into(), "library".into()),
            ];
            s.product_files = vec![
                "compass.yaml".into(),
                "mini-compass.yaml".into(),
                "oem.yaml".into(),
            ];
        }
        s
    }

    /// Where repos entries' targets land ([`Targets`]).
    pub fn targets(&self) -> Targets<'_> {
        Targets {
            addons: &self.addons_path,
            base: &self.target_base,
        }
    }

    /// Resolve the layers for `repo`: defaults, `<workdir>/.gitrelease`, the repository's git
    /// configuration (`release.*`, local/global/system as git reads them), then `overrides`.
    ///
    /// Errors (exit 2): `.gitrelease` that is not valid git-config syntax (file and line, from
    /// gix-config); a path setting that is absolute, leaves the work tree or names `.git`; a
    /// product name that cannot be part of a file name.
    pub fn load(repo: &gix::Repository, overrides: &Overrides) -> Result<Self> {
        let get = raw_checked(repo)?;
        let layout = match get("layout") {
            None => Layout::Helm,
            Some(v) => Layout::parse(&v).ok_or_else(|| {
                UserError::input(format!("setting release.layout `{v}` is not a layout"))
                    .hint("set it to `helm` (charts, repos/, version.yml) or `caicloud` (single-file addons, charts_list.yaml, compass.yaml)")
            })?,
        };
        let mut s = match repo.workdir() {
            Some(w) => Settings::layout_defaults(w, layout),
            None => {
                let mut s = Settings::layout_defaults(repo.git_dir(), layout);
                s.product = s.product.trim_end_matches(".git").to_string();
                s
            }
        };
        s.apply(&get);
        if let Some(v) = get("placeholderProjects") {
            s.placeholder_projects = parse_placeholder_projects(&v)?;
        }
        if let Some(v) = get("productFiles") {
            s.product_files = v
                .split([' ', ',', '\t'])
                .filter(|p| !p.is_empty())
                .map(|p| {
                    let n = normalize_rel_path(p).context("setting release.productFiles")?;
                    match crate::paths::lexical_problem(&n) {
                        Some(problem) if !n.is_empty() => Err(UserError::input(format!(
                            "setting release.productFiles `{n}` {problem}"
                        ))
                        .into()),
                        _ => Ok(n),
                    }
                })
                .collect::<Result<_>>()?;
        }
        for (key, slot) in s.limits.settings() {
            let Some(v) = get(key) else { continue };
            *slot = crate::limits::parse_size(&v).ok_or_else(|| {
                UserError::input(format!("setting release.{key} `{v}` is not a size"))
                    .hint(format!(
                        "write a positive integer, optionally with k, m or g (`git config release.{key} 64m`)"
                    ))
            })?;
        }
        crate::limits::set(s.limits);
        if let Some(p) = &overrides.product {
            s.product = p.clone();
        }
        if let Some(u) = &overrides.component_url {
            s.component_url = u.clone();
        }
        if overrides.no_render_cache {
            s.render_cache = false;
        }
        // release.reposPath names folders of repos files or repos files themselves, several
        // separated by spaces or commas: each is checked as a path setting.
        let repos: Vec<String> = repos_paths(&s.repos_path)
            .into_iter()
            .map(|p| {
                let n = normalize_rel_path(p).context("setting release.reposPath")?;
                match crate::paths::lexical_problem(&n) {
                    Some(problem) => Err(UserError::input(format!(
                        "setting release.reposPath `{n}` {problem}"
                    ))
                    .hint("set it (in .gitrelease or `git config`) to folders or files of the work tree")
                    .into()),
                    None => Ok(n),
                }
            })
            .collect::<Result<_>>()?;
        s.repos_path = repos.join(" ");
        for (key, value) in [
            ("release.addonsPath", &mut s.addons_path),
            ("release.imagesPath", &mut s.images_path),
            ("release.versionFile", &mut s.version_file),
            ("release.pluginsPath", &mut s.plugins_path),
            ("release.targetPathBase", &mut s.target_base),
            ("release.tagsFile", &mut s.tags_file),
        ] {
            *value = normalize_rel_path(value).with_context(|| format!("setting {key}"))?;
            if let Some(problem) = crate::paths::lexical_problem(value) {
                return Err(
                    UserError::input(format!("setting {key} `{value}` {problem}"))
                        .hint(
                            "set it (in .gitrelease or `git config`) to a folder of the work tree",
                        )
                        .into(),
                );
            }
        }
        if crate::versions::parse_loose(&s.kube_version).is_none() {
            return Err(UserError::input(format!(
                "setting release.kubeVersion `{}` is not a Kubernetes version",
                s.kube_version
            ))
            .hint("write it as vMAJOR.MINOR.PATCH, e.g. `v1.30.0`")
            .into());
        }
        if !s.kube_version.starts_with('v') {
            s.kube_version = format!("v{}", s.kube_version);
        }
        let p = &s.product;
        if p.is_empty() || p == "." || p == ".." || p.contains(['/', '\\', '\0']) {
            return Err(UserError::input(format!(
                "setting release.product `{p}` cannot name a package file"
            ))
            .hint("set release.product (in .gitrelease or `git config`, or --product) to a plain name such as `compass`")
            .into());
        }
        Ok(s)
    }

    fn apply(&mut self, get: impl Fn(&str) -> Option<String>) {
        for key in KEYS {
            let Some(v) = get(key) else { continue };
            if *key == "renderCache" {
                // git's boolean spellings; anything else keeps the cache on.
                self.render_cache = !matches!(
                    v.trim().to_ascii_lowercase().as_str(),
                    "false" | "no" | "off" | "0"
                );
                continue;
            }
            let slot = match *key {
                "product" => &mut self.product,
                "addonsPath" => &mut self.addons_path,
                "reposPath" => &mut self.repos_path,
                "imagesPath" => &mut self.images_path,
                "versionFile" => &mut self.version_file,
                "hotfixTagPrefix" => &mut self.hotfix_tag_prefix,
                "kubeVersion" => &mut self.kube_version,
                "pluginsPath" => &mut self.plugins_path,
                "targetPathBase" => &mut self.target_base,
                "tagsFile" => &mut self.tags_file,
                _ => &mut self.component_url,
            };
            *slot = v;
        }
    }
}

/// A getter for `release.<key>` (key as in `addonsPath`) with git's layering: `git -c` >
/// repository/global/system git config > the committed `.gitrelease`. A `.gitrelease` that does
/// not parse is skipped here; [`Settings::load`] reports it.
pub fn raw(repo: &gix::Repository) -> impl Fn(&str) -> Option<String> + '_ {
    raw_checked(repo).unwrap_or_else(|_| {
        let snap = repo.config_snapshot();
        let params = command_line_config();
        Box::new(move |key: &str| layered(&params, &snap, None, key))
    })
}

type Getter<'r> = Box<dyn Fn(&str) -> Option<String> + 'r>;

fn raw_checked(repo: &gix::Repository) -> Result<Getter<'_>> {
    let file = repo
        .workdir()
        .map(|w| w.join(SETTINGS_FILE))
        .filter(|f| f.is_file());
    let syntax_hint = "the file uses git-config syntax: `[release]` then `key = value` lines";
    let committed = match file {
        Some(file) => Some(
            gix::config::File::from_path_no_includes(file.clone(), gix::config::Source::Local)
                .map_err(|e| {
                    UserError::input(format!("{}: {e}", file.display())).hint(syntax_hint)
                })?,
        ),
        // A bare repository (a CI mirror, a server's pre-receive hook): the committed file at HEAD.
        None if repo.workdir().is_none() => match repo
            .head_tree_id()
            .ok()
            .and_then(|t| {
                crate::git::read_path(repo, t.detach(), SETTINGS_FILE)
                    .ok()
                    .flatten()
            })
            .and_then(|mut f| f.remove(""))
        {
            Some(entry) => {
                let mut bytes = entry.data;
                Some(
                    gix::config::File::from_bytes_owned(
                        &mut bytes,
                        gix::config::file::Metadata::from(gix::config::Source::Local),
                        Default::default(),
                    )
                    .map_err(|e| {
                        UserError::input(format!("HEAD:{SETTINGS_FILE}: {e}")).hint(syntax_hint)
                    })?,
                )
            }
            None => None,
        },
        None => None,
    };
    let snap = repo.config_snapshot();
    let params = command_line_config();
    Ok(Box::new(move |key: &str| {
        layered(&params, &snap, committed.as_ref(), key)
    }))
}

fn layered(
    params: &[(String, String)],
    snap: &gix::config::Snapshot<'_>,
    committed: Option<&gix::config::File>,
    key: &str,
) -> Option<String> {
    let full = format!("release.{key}");
    let wanted = full.to_ascii_lowercase();
    if let Some((_, v)) = params
        .iter()
        .rev()
        .find(|(k, _)| k.to_ascii_lowercase() == wanted)
    {
        return Some(v.clone());
    }
    if let Some(v) = snap.string(full.as_str()) {
        return Some(v.to_string());
    }
    committed
        .and_then(|c| c.string(full.as_str()))
        .map(|v| v.to_string())
}

/// git's own setting `key` (`commit.gpgSign`, `user.signingKey`, `core.hooksPath`): from
/// `git -c` ([`command_line_config`]) first, then the repository's configuration (local, global,
/// system, and git's environment overrides), as git reads it.
pub fn git_config(repo: &gix::Repository, key: &str) -> Option<String> {
    command_line_value(key).or_else(|| repo.config_snapshot().string(key).map(|v| v.to_string()))
}

/// The value `git -c key=value` gave `key` (the last one wins; section and name compared
/// without case), if any.
pub fn command_line_value(key: &str) -> Option<String> {
    command_line_config()
        .into_iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(key))
        .map(|(_, v)| v)
}

/// [`git_config`] read as a boolean the way git does (`true`/`yes`/`on`/`1`, a key given
/// without value); anything else, or unset, is false.
pub fn git_config_bool(repo: &gix::Repository, key: &str) -> bool {
    match command_line_value(key) {
        Some(v) => v.is_empty() || parse_bool(&v) == Some(true),
        None => repo.config_snapshot().boolean(key).unwrap_or(false),
    }
}

/// A boolean as git spells one: `true`/`yes`/`on`/`1` or `false`/`no`/`off`/`0` (any case,
/// surrounding space ignored); `None` for anything else, the empty string included.
fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// `release.<key>` ([`raw`]) read as a boolean the way git reads one: `true`/`yes`/`on`/`1` (or a
/// key written without a value), `false`/`no`/`off`/`0`/empty; unset is `default`.
///
/// Errors (exit 2): any other value, naming the setting and what it may be.
pub fn release_bool(repo: &gix::Repository, key: &str, default: bool) -> Result<bool> {
    match raw(repo)(key) {
        None => Ok(default),
        Some(v) => match parse_bool(&v) {
            Some(b) => Ok(b),
            None if v.trim().is_empty() => Ok(false),
            None => Err(
                UserError::input(format!("setting release.{key} `{v}` is not a boolean"))
                    .hint(format!(
                        "set it to true or false (`git config release.{key} true`)"
                    ))
                    .into(),
            ),
        },
    }
}

pub use crate::git::command_line_config;

/// Normalise a repo-relative path setting: `/` separators, no `.` parts, no trailing `/`;
/// `.` and `` become ``. Errors on absolute paths and `..` parts.
pub fn normalize_rel_path(p: &str) -> Result<String> {
    let p = p.replace('\\', "/");
    if p.starts_with('/') {
        return Err(UserError::input(format!(
            "`{p}` is absolute; paths in settings are relative to the repository root"
        ))
        .into());
    }
    let mut parts = Vec::new();
    for part in p.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                return Err(UserError::input(format!("`{p}` leaves the repository (`..`)")).into());
            }
            other => parts.push(other),
        }
    }
    Ok(parts.join("/"))
}

/// The paths of a `release.reposPath` value: split at spaces and commas, empty parts dropped;
/// `[""]` (the root) when none is left.
pub fn repos_paths(value: &str) -> Vec<&str> {
    let v: Vec<&str> = value
        .split([' ', ',', '\t'])
        .filter(|p| !p.is_empty())
        .collect();
    if v.is_empty() {
        vec![""]
    } else {
        v
    }
}

/// Parse `release.placeholderProjects`: `NAME=PROJECT` pairs separated by spaces or commas
/// (`registry_release=release, registry_library=library`); an empty value means none.
///
/// Errors (exit 2): a pair without `=`, an empty side, or a project holding `/`, `[` or `]`.
pub fn parse_placeholder_projects(v: &str) -> Result<Vec<(String, String)>> {
    v.split([' ', ',', '\t'])
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((n, p))
                if !n.is_empty()
                    && !p.is_empty()
                    && !p.contains(['/', '[', ']'])
                    && !n.contains(['[', ']']) =>
            {
                Ok((n.to_string(), p.to_string()))
            }
            _ => Err(UserError::input(format!(
                "setting release.placeholderProjects: `{pair}` is not PLACEHOLDER=PROJECT"
            ))
            .hint("e.g. `git config release.placeholderProjects 'registry_release=release registry_library=library'`")
            .into()),
        })
        .collect()
}

/// Expand a `release.componentUrl` template for `repository_full_name` (`owner/name`).
///
/// `{repo}` = `owner/name`, `{owner}`, `{name}`. A name without `/` has an empty owner.
pub fn component_url(template: &str, repository_full_name: &str) -> String {
    let (owner, name) = repository_full_name
        .rsplit_once('/')
        .unwrap_or(("", repository_full_name));
    template
        .replace("{repo}", repository_full_name)
        .replace("{owner}", owner)
        .replace("{name}", name)
}

/// The commented `.gitrelease` written by `git release init` (the helm layout).
pub fn template_file(product: &str) -> String {
    template_file_for(product, Layout::Helm)
}

/// The commented `.gitrelease` `git release init --layout` writes: `release.layout` and the
/// layout's paths spelled out.
pub fn template_file_for(product: &str, layout: Layout) -> String {
    // The layout's values, spelled out from its defaults (product aside).
    let d = Settings::layout_defaults(Path::new("."), layout);
    let caicloud = if layout == Layout::Caicloud {
        let projects: Vec<String> = d
            .placeholder_projects
            .iter()
            .map(|(n, p)| format!("{n}={p}"))
            .collect();
        format!(
            "\t# Repository layout: caicloud (single-file addons under addons/<group>/,\n\
\t# charts_list.yaml, compass.yaml; images named by project).\n\
\tlayout = caicloud\n\
\t# What targetPath in charts_list.yaml is relative to.\n\
\ttargetPathBase = {}\n\
\t# The collected tag of each component.\n\
\ttagsFile = {}\n\
\t# Registry placeholders and the project each stands for.\n\
\tplaceholderProjects = {}\n\
\t# Product description files (which addons an installation deploys).\n\
\tproductFiles = {}\n",
            d.target_base,
            d.tags_file,
            projects.join(" "),
            d.product_files.join(" ")
        )
    } else {
        String::new()
    };
    let version_file = if d.version_file.is_empty() {
        "\t# No version.yml in this layout: the product description files have its role.\n\
\tversionFile =\n"
            .to_string()
    } else {
        format!(
            "\t# Addon version file (spec.modules[].addons[]).\n\tversionFile = {}\n",
            d.version_file
        )
    };
    format!(
        "# git-release settings for this repository (git-config syntax, committed).\n\
# Precedence: these values < `git config release.<key>` < command-line flags.\n\
[release]\n\
{caicloud}\
\t# Product name, used in package names.\n\
\tproduct = {product}\n\
\t# Where collected charts and addons live.\n\
\taddonsPath = addons\n\
\t# Component lists: folders of *.yaml, or files.\n\
\treposPath = {repos}\n\
\t# Folder of images_*.list files.\n\
\timagesPath = {images}\n\
{version_file}\
\t# How repositoryFullName becomes a fetch URL: {{repo}} = owner/name, {{owner}}, {{name}}.\n\
\t# Plain paths and file:// URLs work, e.g. /srv/git/{{name}} or file:///srv/git/{{repo}}.git\n\
\tcomponentUrl = {DEFAULT_COMPONENT_URL}\n\
\t# Namespace of hotfix tags (git release hotfix --tag).\n\
\thotfixTagPrefix = hotfix/\n\
\t# Release tag name (git release tag).\n\
\ttagTemplate = v{{version}}\n\
\t# Tags that can be created but never moved or deleted (git release protect);\n\
\t# the default follows hotfixTagPrefix:\n\
\t# protectedTags = v[0-9]* hotfix/*\n\
\t# Release-line and OEM branches (git release branch, cherry-pick).\n\
\t# The OEM branch must not sit below the line branch: git cannot hold both.\n\
\tbranchTemplate = release-{{line}}\n\
\toemBranchTemplate = release-{{line}}-{{customer}}\n",
        repos = d.repos_path,
        images = d.images_path,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_template_parts() {
        assert_eq!(
            component_url("https://github.com/{repo}.git", "muzi502/cyclone"),
            "https://github.com/muzi502/cyclone.git"
        );
        assert_eq!(component_url("/srv/{owner}/{name}", "a/b"), "/srv/a/b");
        assert_eq!(component_url("/srv/{owner}x{name}", "solo"), "/srv/xsolo");
    }

    #[test]
    fn git_dash_c_parameters() {
        assert_eq!(
            crate::git::parse_config_parameters("'release.addonsPath'='charts' 'core.x'='a b'"),
            [
                ("release.addonsPath".to_string(), "charts".to_string()),
                ("core.x".to_string(), "a b".to_string())
            ]
        );
        assert_eq!(
            crate::git::parse_config_parameters("'release.product=it'\\''s'"),
            [("release.product".to_string(), "it's".to_string())]
        );
    }

    #[test]
    fn rel_paths() {
        assert_eq!(normalize_rel_path("./addons/").unwrap(), "addons");
        assert_eq!(normalize_rel_path(".").unwrap(), "");
        assert!(normalize_rel_path("../x").is_err());
        assert!(normalize_rel_path("/x").is_err());
    }
}
