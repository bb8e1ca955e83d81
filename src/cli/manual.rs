//! What the man pages say beyond `--help`: the settings each command reads, the files it reads
//! and writes, examples, and the exit status shared by every command (rendered by
//! `git release generate man`).

/// Every setting: `(key, default, meaning)`. Layered as git does: built-in default < the
/// committed `.gitrelease` < `git config release.<key>` < flags.
pub const SETTINGS: &[(&str, &str, &str)] = &[
    ("release.product", "the repository folder's name", "product name, in package and tag names"),
    ("release.addonsPath", "addons", "where charts live"),
    ("release.reposPath", "repos", "the component lists (repos files)"),
    ("release.imagesPath", "images", "the image lists and images_origin.yaml"),
    ("release.versionFile", "version.yml", "addon versions"),
    ("release.componentUrl", "https://github.com/{repo}.git", "where a component is fetched from ({repo} = owner/name, {owner}, {name}); a plain path or file:// URL works; an entry's own url: wins"),
    ("release.hotfixTagPrefix", "hotfix/", "namespace of hotfix tags"),
    ("release.tagTemplate", "v{version}", "release tag names"),
    ("release.protectedTags", "v[0-9]* hotfix/*", "tags protect guards (globs)"),
    ("release.branchTemplate", "release-{line}", "release-line branches"),
    ("release.oemBranchTemplate", "release-{line}-{customer}", "OEM branches"),
    ("release.check.<rule>", "per rule", "error, warning or off"),
    ("release.check.allowImage", "none", "image globs exempt from the image rules"),
    ("release.registry", "none", "the internal registry, host[:port][/prefix], that [[ registry_release ]] stands for"),
    ("release.insecureRegistries", "none", "hosts spoken to over plain HTTP (besides localhost and 127.0.0.1)"),
    ("release.registryTimeout", "60", "seconds a registry may stay silent before the command fails naming it"),
    ("release.fsync", "false", "true: packages are flushed to disk (fsync) before they get their name, so a power cut cannot leave a short one"),
    ("release.kubeVersion", "v1.36.0", "Kubernetes version charts are rendered for (.Capabilities.KubeVersion)"),
    ("release.checkOnPush", "false", "in a bare repository with protect: refuse pushed release tags that fail check"),
    ("release.pluginsPath", "release-plugins", "the plugin files, one YAML file a plugin"),
    ("release.pluginImage", "{registry}/release/{product}-plugins-{name}:{version}", "what plugin-image-format expects a plugin's spec.service.image to be ({registry}: [[ registry_release ]] or release.registry)"),
    ("release.pluginRequirementKey", "compassRequirement", "the spec key of a plugin's product requirement, checked by tag (plugin-requirement-unmet)"),
    ("release.sharedSlots", "none", "plugin slots several plugins may claim (space-separated), exempt from plugin-slot-conflict"),
    ("release.signPackages", "false", "true: package, hotfix and upgrade sign the manifest and the package as with --sign"),
    ("release.renderCache", "true", "false: render every chart every time instead of keeping what each yields under .git/release/cache/render/"),
];

/// The man page extras of one command.
pub struct Extra {
    /// Setting keys it reads (see [`SETTINGS`]).
    pub settings: &'static [&'static str],
    /// `(path, what)` it reads or writes.
    pub files: &'static [(&'static str, &'static str)],
    /// `(command line, what it does)`.
    pub examples: &'static [(&'static str, &'static str)],
    /// Related commands (`git-release-tag`).
    pub see_also: &'static [&'static str],
}

const LAYOUT: &[&str] = &[
    "release.addonsPath",
    "release.reposPath",
    "release.imagesPath",
    "release.versionFile",
];

/// The extras of subcommand `name` (`tag`); `None` for an unknown name.
pub fn extra(name: &str) -> Option<Extra> {
    Some(match name {
        "init" => Extra {
            settings: &["release.product"],
            files: &[
                (".gitrelease", "the committed settings, written commented"),
                ("addons/, repos/, images/, configs/, scripts/", "created when missing"),
                ("version.yml", "created empty when missing"),
            ],
            examples: &[("git release init --product demo", "lay out a new platform-release repository")],
            see_also: &["git-release-collect"],
        },
        "collect" => Extra {
            settings: &[
                "release.addonsPath",
                "release.reposPath",
                "release.imagesPath",
                "release.versionFile",
                "release.componentUrl",
                "release.kubeVersion",
            ],
            files: &[
                ("repos/*.yaml", "the components, their tags (currentTag is updated in place)"),
                ("addons/", "chart folders, replaced from the component repositories"),
                ("version.yml, images/images_*.list", "rewritten to match the charts"),
                (".git/release/components/", "cached tags of remote components"),
                (".git/release/lock, .git/release/journal", "one writer at a time; crash recovery"),
                ("--changelog FILE", "Markdown: what moved, each component's commits, held-back tags (written in dry runs too)"),
            ],
            examples: &[
                ("git release collect --dry-run", "show the diff of what would change"),
                ("git release collect --commit", "collect and commit exactly what was written"),
                ("git release collect --tag=cyclone=v1.2.3 cyclone", "pin one component"),
                ("git release collect -n --log --changelog mr.md", "the commits each component moved by, and a merge request description"),
            ],
            see_also: &["git-release-check", "git-release-images", "git-release-diff"],
        },
        "check" => Extra {
            settings: &[
                "release.check.<rule>",
                "release.check.allowImage",
                "release.registry",
                "release.insecureRegistries",
                "release.registryTimeout",
                "release.kubeVersion",
                "release.tagTemplate",
            ],
            files: &[
                ("addons/, version.yml, images/images_*.list", "read at the revision checked"),
                ("images/images_origin.yaml", "upstream sources of mirrored images"),
                ("$DOCKER_CONFIG/config.json, ~/.docker/config.json", "registry credentials"),
            ],
            examples: &[
                ("git release check", "check HEAD before tagging"),
                ("git release check v2.10.0 --history", "also audit every release tag"),
                ("git release check --offline --json", "no registry; findings for a script"),
            ],
            see_also: &["git-release-tag", "git-release-images"],
        },
        "images" => Extra {
            settings: &[
                "release.registry",
                "release.insecureRegistries",
                "release.registryTimeout",
                "release.kubeVersion",
            ],
            files: &[
                ("images/images_origin.yaml", "upstream source of each mirrored image"),
                ("$DOCKER_CONFIG/config.json, ~/.docker/config.json", "registry credentials (auths, credHelpers, credsStore)"),
                (".git/release/blobs/sha256/", "blob cache, every blob checked against its digest"),
            ],
            examples: &[
                ("git release images --why pause", "where an image comes from"),
                ("git release images sync --dry-run", "which mirrored images are missing internally"),
            ],
            see_also: &["git-release-check", "git-release-package"],
        },
        "hotfix" => Extra {
            settings: &[
                "release.product",
                "release.hotfixTagPrefix",
                "release.tagTemplate",
                "release.registry",
                "release.insecureRegistries",
                "release.fsync",
            ],
            files: &[
                ("<product>-hotfix-<version>.tar.gz", "the package, written atomically into -o DIR"),
                ("hotfix.yaml", "inside the package: charts, images and checksums"),
                (".git/release/blobs/, .git/release/checksums/", "blob cache and remembered images.tar checksums"),
            ],
            examples: &[
                ("git release hotfix v2.10.0..release-2.10", "package what changed since the release"),
                ("git release hotfix v2.10.0 --images --tag", "with the changed images; tag the hotfix"),
            ],
            see_also: &["git-release-package", "git-release-cherry-pick"],
        },
        "package" => Extra {
            settings: &[
                "release.product",
                "release.tagTemplate",
                "release.registry",
                "release.insecureRegistries",
                "release.registryTimeout",
                "release.fsync",
            ],
            files: &[
                ("<product>-<version>.tar.gz", "the package, written atomically into -o DIR"),
                ("release.yaml", "inside the package: charts, images with digests, checksums"),
                ("images/images.tar", "inside the package with --images: an OCI image layout with Docker's manifest.json"),
            ],
            examples: &[
                ("git release package v2.10.0 -o dist", "the offline package of a release"),
                ("git release package v2.10.0 --images --platform linux/arm64", "with every image, for arm64"),
            ],
            see_also: &["git-release-hotfix", "git-release-images"],
        },
        "upgrade" => Extra {
            settings: &[
                "release.product",
                "release.versionFile",
                "release.registry",
                "release.insecureRegistries",
                "release.registryTimeout",
                "release.fsync",
            ],
            files: &[
                ("<product>-upgrade-<from>-<to>.tar.gz", "the package, written atomically into -o DIR"),
                ("upgrade.yaml", "inside the package: charts, removals, steps, images, layers expected at the site, checksums"),
                ("run.sh", "inside the package: backup, upgrade, check, remove (helm and kubectl only; --dry-run prints)"),
                ("images/images.tar", "with --images: the new images without the layers FROM's images brought (a partial OCI layout)"),
            ],
            examples: &[
                ("git release upgrade v2.10.3 v2.11.0 -n", "what the upgrade changes, removes and runs, in order"),
                ("git release upgrade v2.10.3 v2.11.0 --images -o dist", "the package, with only the image layers the site lacks"),
            ],
            see_also: &["git-release-package", "git-release-hotfix", "git-release-diff"],
        },
        "push" => Extra {
            settings: &["release.registryTimeout"],
            files: &[
                ("$DOCKER_CONFIG/config.json, ~/.docker/config.json", "the site registry's credentials"),
                ("<charts-out>/<name>-<version>.tgz", "each chart with its placeholders filled, for helm upgrade --install"),
            ],
            examples: &[
                ("git release push demo-v1.1.0.tar.gz --registry registry.site:5000/platform --charts-out charts", "images into the site's registry, charts ready to install"),
                ("git release push demo-upgrade-1.0.2-1.1.0.tar.gz --registry registry.site:5000/platform -n", "what would be pushed"),
            ],
            see_also: &["git-release-verify", "git-release-package", "git-release-upgrade"],
        },
        "plugin" => Extra {
            settings: &["release.pluginsPath", "release.pluginImage", "release.sharedSlots"],
            files: &[("release-plugins/<name>.yaml", "one plugin, in the plugin center's format")],
            examples: &[
                ("git release plugin list", "name, version, image, port, slots and requirement of each plugin"),
                ("git release plugin list v2.10.0 --json", "the same at a release, for scripts"),
                ("git release plugin bump gpu-manager --commit", "v0.1.3 -> v0.1.4, the image tag with it"),
                ("git release plugin package gpu-manager --images -o dist", "the plugin package, its image included"),
            ],
            see_also: &["git-release-check"],
        },
        "verify" => Extra {
            settings: &[],
            files: &[
                ("release.yaml, hotfix.yaml, upgrade.yaml", "the package's manifest: sha256 of every other file"),
                ("images/images.tar", "copied to a temporary file while its blobs are checked"),
            ],
            examples: &[
                ("git release verify demo-v1.0.0.tar.gz", "before installing: is it as it was built?"),
                ("git release verify demo-v1.0.0.tar.gz --json", "the same, for scripts (exit 3 on any mismatch)"),
            ],
            see_also: &["git-release-package", "git-release-hotfix", "git-release-upgrade"],
        },
        "tag" => Extra {
            settings: &["release.tagTemplate", "release.protectedTags", "release.versionFile"],
            files: &[("version.yml", "must agree with the charts at the tagged commit")],
            examples: &[
                ("git release tag 2.10.0", "tag HEAD as v2.10.0 after checking it"),
                ("git release tag 2.10.1 release-2.10 --dry-run", "what would be tagged"),
            ],
            see_also: &["git-release-check", "git-release-protect"],
        },
        "protect" => Extra {
            settings: &["release.protectedTags", "release.hotfixTagPrefix", "release.checkOnPush"],
            files: &[(".git/hooks/", "git-release's hooks, chained to any hooks already there")],
            examples: &[
                ("git release protect", "refuse moving or deleting release tags in this clone"),
                ("git release protect --check", "exit 0 when installed, 3 when not"),
            ],
            see_also: &["git-release-tag"],
        },
        "branch" => Extra {
            settings: &["release.branchTemplate", "release.oemBranchTemplate", "release.tagTemplate"],
            files: &[],
            examples: &[
                ("git release branch 2.10", "release-2.10 at the newest 2.10 release tag"),
                ("git release branch 2.10/acme", "the OEM branch release-2.10-acme"),
                ("git release branch --list", "lines, OEM branches, newest release and hotfix tags"),
            ],
            see_also: &["git-release-cherry-pick"],
        },
        "cherry-pick" => Extra {
            settings: &["release.branchTemplate", "release.oemBranchTemplate", "release.versionFile"],
            files: &[("Chart.yaml, version.yml", "version fields resolved to the branch's patch + 1")],
            examples: &[("git release cherry-pick 1a2b3c4 --onto 2.10", "apply a fix to release-2.10")],
            see_also: &["git-release-branch", "git-release-hotfix"],
        },
        "bump" => Extra {
            settings: LAYOUT,
            files: &[("Chart.yaml, VERSION", "edited in place, only the version bytes")],
            examples: &[
                ("git release bump --next-minor --commit", "on master after a release"),
                ("git release bump patch cyclone", "on a release branch"),
            ],
            see_also: &["git-release-cherry-pick"],
        },
        "log" => Extra {
            settings: &["release.hotfixTagPrefix", "release.addonsPath", "release.imagesPath"],
            files: &[("addons/*/Chart.yaml, images/images_*.list", "read at each tag, from the object database")],
            examples: &[
                ("git release log 2.10", "the releases and hotfixes of line 2.10, newest first"),
                ("git release log --max-count 5 --json", "the five newest, for a script"),
            ],
            see_also: &["git-release-diff", "git-release-contains"],
        },
        "diff" => Extra {
            settings: &["release.addonsPath", "release.reposPath", "release.imagesPath", "release.versionFile"],
            files: &[("repos/*.yaml, addons/, images/images_*.list", "read at both revisions, from the object database")],
            examples: &[
                ("git release diff v2.10.2 v2.11.0", "what an upgrade from 2.10.2 to 2.11.0 brings, by component"),
                ("git release diff v2.10.2", "what changed on top of v2.10.2 up to HEAD"),
            ],
            see_also: &["git-release-log", "git-release-hotfix"],
        },
        "contains" => Extra {
            settings: &["release.hotfixTagPrefix", "release.branchTemplate", "release.oemBranchTemplate"],
            files: &[],
            examples: &[
                ("git release contains 1a2b3c4", "every release, hotfix and release branch that has the fix, picks included"),
                ("git release contains 1a2b3c4 --all --json", "every ref, with the commit that carries the fix"),
            ],
            see_also: &["git-release-cherry-pick", "git-release-log"],
        },
        _ => return None,
    })
}

/// `(code, meaning)` of every command's exit status.
pub const EXIT_STATUS: &[(&str, &str)] = &[
    ("0", "done"),
    ("1", "failure of I/O, git or the network (a registry, a remote)"),
    ("2", "bad input: a flag, a revision, a repos file, a chart"),
    ("3", "refused by the repository's state: findings of check, an existing tag, uncommitted changes, another git-release command running"),
];

/// The JSON vocabulary every `--json` speaks ([`crate::report`]): `(shape, what)`.
pub const JSON_VOCABULARY: &[(&str, &str)] = &[
    ("{\"command\", \"dry_run\", \"rev\", \"commit\", \"warnings\", ...}", "every report: the command, whether it was a dry run (the report then says what a real run would do), the commit examined, the commit made, and the warnings, the command's own fields beside them"),
    ("{\"message\", \"path\", \"line\"}", "a warning (path and line null when it concerns no file)"),
    ("{\"name\", \"path\", \"from\", \"to\"}", "a version change: a chart (path: its folder), a component's tag (path: its repos entry), a file's version; from null: new, to null: removed"),
    ("{\"from\", \"to\"}", "an image change: two references of one image repository (hotfix manifests)"),
    ("{\"path\", \"sha256\", \"size\"}", "a package written (sha256 and size null in a dry run)"),
    ("{\"ref\", \"from\", \"to\"}", "a ref update: full ref name and object ids; from null: created"),
    ("{\"rule\", \"severity\", ..., \"message\"}", "a finding of check"),
    ("{\"error\": {\"message\", \"hint\", \"exit_code\"}}", "an error, on standard output, with the exit status below"),
];

/// Escape `text` for a roff text line.
pub fn escape(text: &str) -> String {
    let t = text.replace('\\', "\\\\").replace('-', "\\-");
    if t.starts_with(['.', '\'']) {
        format!("\\&{t}")
    } else {
        t
    }
}

/// The roff of the SETTINGS, FILES, EXIT STATUS, EXAMPLES and SEE ALSO sections of `name`
/// (`None`: the top-level page, with every setting and command).
pub fn sections(name: Option<&str>) -> String {
    let mut out = String::new();
    let keys: Vec<&str> = match name.and_then(extra) {
        Some(e) => e.settings.to_vec(),
        None => SETTINGS.iter().map(|s| s.0).collect(),
    };
    out.push_str(".SH SETTINGS\nRead as git does: built\\-in default < the committed \\fI.gitrelease\\fR (git\\-config syntax) < \\fBgit config release.\\fR\\fIkey\\fR < flags.\n");
    for k in keys {
        if let Some((key, default, meaning)) = SETTINGS.iter().find(|s| s.0 == k) {
            out.push_str(&format!(
                ".TP\n\\fB{}\\fR (default: {})\n{}\n",
                escape(key),
                escape(default),
                escape(meaning)
            ));
        }
    }
    let e = name.and_then(extra);
    if let Some(e) = &e {
        if !e.files.is_empty() {
            out.push_str(".SH FILES\n");
            for (path, what) in e.files {
                out.push_str(&format!(
                    ".TP\n\\fI{}\\fR\n{}\n",
                    escape(path),
                    escape(what)
                ));
            }
        }
    }
    out.push_str(".SH JSON\nWith \\fB\\-\\-json\\fR every command prints one JSON document on standard output, in one vocabulary:\n");
    for (shape, what) in JSON_VOCABULARY {
        out.push_str(&format!(
            ".TP\n\\fB{}\\fR\n{}\n",
            escape(shape),
            escape(what)
        ));
    }
    out.push_str(".SH \"EXIT STATUS\"\n");
    for (code, meaning) in EXIT_STATUS {
        out.push_str(&format!(".TP\n\\fB{code}\\fR\n{}\n", escape(meaning)));
    }
    out.push_str(".PP\nWith \\fB\\-\\-json\\fR, an error is printed on standard output as {\"error\": {\"message\", \"hint\", \"exit_code\"}}, with the same status.\n");
    if let Some(e) = &e {
        out.push_str(".SH EXAMPLES\n");
        for (cmd, what) in e.examples {
            out.push_str(&format!(".TP\n\\fB{}\\fR\n{}\n", escape(cmd), escape(what)));
        }
    }
    out.push_str(".SH \"SEE ALSO\"\n");
    let mut refs: Vec<String> = vec!["git\\-release(1)".into()];
    match &e {
        Some(e) => refs.extend(e.see_also.iter().map(|s| format!("{}(1)", escape(s)))),
        None => {
            refs.clear();
            refs.extend(
                super::SUBCOMMANDS
                    .iter()
                    .map(|s| format!("git\\-release\\-{}(1)", escape(s))),
            );
        }
    }
    refs.push("git(1)".into());
    out.push_str(&format!("{}\n", refs.join(", ")));
    out
}
