# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_git_release_global_optspecs
    string join \n h/help V/version
end

function __fish_git_release_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_git_release_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_git_release_using_subcommand
    set -l cmd (__fish_git_release_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c git-release -n "__fish_git_release_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-release -n "__fish_git_release_needs_command" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_needs_command" -f -a "init" -d 'Create the platform-release layout (addons/, repos/, images/, version.yml, .gitrelease)'
complete -c git-release -n "__fish_git_release_needs_command" -f -a "collect" -d 'Collect component charts at their newest release tags into the addons folder'
complete -c git-release -n "__fish_git_release_needs_command" -f -a "check" -d 'Check that a revision is a consistent release: chart versions, image tags, version.yml, image lists'
complete -c git-release -n "__fish_git_release_needs_command" -f -a "images" -d 'List the images a revision deploys, with the charts, files and lines each comes from; `images sync` copies the mirrored ones into the internal registry'
complete -c git-release -n "__fish_git_release_needs_command" -f -a "hotfix" -d 'Package the charts changed between two revisions as a reproducible hotfix package'
complete -c git-release -n "__fish_git_release_needs_command" -f -a "package" -d 'Build the full offline package of a product version'
complete -c git-release -n "__fish_git_release_needs_command" -f -a "upgrade" -d 'Build the package that upgrades a site from one release to another (any two releases)'
complete -c git-release -n "__fish_git_release_needs_command" -f -a "plugin" -d 'The plugin files of the repository (release-plugins/): `plugin list`, `plugin bump`, `plugin package`'
complete -c git-release -n "__fish_git_release_needs_command" -f -a "verify" -d 'Check a package as the site receives it: every checksum, every image blob, outside any repository'
complete -c git-release -n "__fish_git_release_needs_command" -f -a "push" -d 'At the site: verify a package, push its images into the site\'s registry, write its charts for it'
complete -c git-release -n "__fish_git_release_needs_command" -f -a "tag" -d 'Create the protected annotated release tag of a product version'
complete -c git-release -n "__fish_git_release_needs_command" -f -a "protect" -d 'Install git hooks so release and hotfix tags can never be moved or deleted'
complete -c git-release -n "__fish_git_release_needs_command" -f -a "branch" -d 'Create release-line and OEM branches, or list them'
complete -c git-release -n "__fish_git_release_needs_command" -f -a "cherry-pick" -d 'Cherry-pick fixes onto a release branch, resolving version fields to the branch\'s patch + 1'
complete -c git-release -n "__fish_git_release_needs_command" -f -a "bump" -d 'Bump chart and VERSION versions: next minor after a release, or patch on a release branch'
complete -c git-release -n "__fish_git_release_needs_command" -f -a "log" -d 'List the releases and hotfixes of a line (or all), newest first, with what each changed'
complete -c git-release -n "__fish_git_release_needs_command" -f -a "diff" -d 'Compare two releases component by component: tags, chart versions, files, images'
complete -c git-release -n "__fish_git_release_needs_command" -f -a "contains" -d 'Find every release tag, hotfix tag and release branch that contains a change, picks included'
complete -c git-release -n "__fish_git_release_needs_command" -f -a "generate" -d 'Write man pages and shell completions (for packagers; output is committed under man/ and completions/)'
complete -c git-release -n "__fish_git_release_using_subcommand init" -l product -d 'Product name written to .gitrelease [default: the repository folder\'s name]' -r
complete -c git-release -n "__fish_git_release_using_subcommand init" -l layout -d 'Which layout to create: `helm` (charts under addons/, repos/*.yaml, version.yml, images/) or `caicloud` (single-file addons under addons/<group>/, charts_list.yaml and release_charts.yaml, compass.yaml and mini-compass.yaml, images-lists/); written to .gitrelease as release.layout' -r -f -a "helm\t''
caicloud\t''"
complete -c git-release -n "__fish_git_release_using_subcommand init" -s n -l dry-run -d 'Print what would be created; create nothing'
complete -c git-release -n "__fish_git_release_using_subcommand init" -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git-release -n "__fish_git_release_using_subcommand init" -s h -l help -d 'Print help'
complete -c git-release -n "__fish_git_release_using_subcommand init" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_using_subcommand collect" -s j -l jobs -d 'Fetch this many component repositories at once [default: twice the CPUs, 4 to 16; at most 64]' -r
complete -c git-release -n "__fish_git_release_using_subcommand collect" -l tag -d 'Collect COMPONENT at TAG instead of its newest release tag (repeatable)' -r
complete -c git-release -n "__fish_git_release_using_subcommand collect" -l component-url -d 'Override release.componentUrl for this run: a template with {repo}, {owner}, {name}' -r
complete -c git-release -n "__fish_git_release_using_subcommand collect" -l changelog -d 'Write the changes, commits and held-back tags as Markdown to FILE (a merge request description); written in dry runs too' -r -F
complete -c git-release -n "__fish_git_release_using_subcommand collect" -l offline -d 'Use only the component cache in the git dir; never connect to a remote (a warning says when the cache was last fetched)'
complete -c git-release -n "__fish_git_release_using_subcommand collect" -l pre -d 'Consider pre-release tags (v1.2.0-rc.1) too'
complete -c git-release -n "__fish_git_release_using_subcommand collect" -l allow-downgrade -d 'Allow picking a tag lower than the entry\'s currentTag'
complete -c git-release -n "__fish_git_release_using_subcommand collect" -l theirs -d 'Where a collected file was changed both here and upstream, take upstream\'s version and drop the local change (the plan lists each file). Files only the work tree has are kept'
complete -c git-release -n "__fish_git_release_using_subcommand collect" -s n -l dry-run -d 'Write nothing; print the unified diff of every file that would change'
complete -c git-release -n "__fish_git_release_using_subcommand collect" -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git-release -n "__fish_git_release_using_subcommand collect" -l commit -d 'Commit what the command wrote (only those paths), as `git commit -- <paths>` does: hooks and signing included'
complete -c git-release -n "__fish_git_release_using_subcommand collect" -l no-verify -d 'With --commit: skip the pre-commit and commit-msg hooks, as `git commit --no-verify`'
complete -c git-release -n "__fish_git_release_using_subcommand collect" -s q -l quiet -d 'No progress display'
complete -c git-release -n "__fish_git_release_using_subcommand collect" -l log -d 'Under the table, the commits each component moved by (first-parent, merges summarised)'
complete -c git-release -n "__fish_git_release_using_subcommand collect" -l all -d 'List every component in the table, unchanged ones too'
complete -c git-release -n "__fish_git_release_using_subcommand collect" -l no-cache -d 'Render every chart this run instead of reading the images found earlier from the render cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good)'
complete -c git-release -n "__fish_git_release_using_subcommand collect" -s h -l help -d 'Print help'
complete -c git-release -n "__fish_git_release_using_subcommand collect" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_using_subcommand check" -l history -d 'Also audit every release and hotfix tag against each other (chart-version-reused)'
complete -c git-release -n "__fish_git_release_using_subcommand check" -l offline -d 'Skip the rules that need the network (image-missing)'
complete -c git-release -n "__fish_git_release_using_subcommand check" -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git-release -n "__fish_git_release_using_subcommand check" -l no-cache -d 'Render every chart this run instead of reading the images found earlier from the render cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good)'
complete -c git-release -n "__fish_git_release_using_subcommand check" -s h -l help -d 'Print help'
complete -c git-release -n "__fish_git_release_using_subcommand check" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_using_subcommand images; and not __fish_seen_subcommand_from sync" -l why -d 'Only this image (an exact reference, or text the references contain): where it comes from' -r
complete -c git-release -n "__fish_git_release_using_subcommand images; and not __fish_seen_subcommand_from sync" -l lock -d 'Write `images/images.lock`: the digest each image of REV\'s lists names now in its registry; package, hotfix and upgrade then pull by it (commit the file)'
complete -c git-release -n "__fish_git_release_using_subcommand images; and not __fish_seen_subcommand_from sync" -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git-release -n "__fish_git_release_using_subcommand images; and not __fish_seen_subcommand_from sync" -l no-cache -d 'Render every chart this run instead of reading the images found earlier from the render cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good)'
complete -c git-release -n "__fish_git_release_using_subcommand images; and not __fish_seen_subcommand_from sync" -s h -l help -d 'Print help'
complete -c git-release -n "__fish_git_release_using_subcommand images; and not __fish_seen_subcommand_from sync" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_using_subcommand images; and not __fish_seen_subcommand_from sync" -a "sync" -d 'Copy every image that has an images_origin.yaml entry from its upstream source into the internal registry (release.registry) when it is missing there, every platform included'
complete -c git-release -n "__fish_git_release_using_subcommand images; and __fish_seen_subcommand_from sync" -s n -l dry-run -d 'Only say which images are missing; copy nothing'
complete -c git-release -n "__fish_git_release_using_subcommand images; and __fish_seen_subcommand_from sync" -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git-release -n "__fish_git_release_using_subcommand images; and __fish_seen_subcommand_from sync" -l no-cache -d 'Render every chart this run instead of reading the images found earlier from the render cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good)'
complete -c git-release -n "__fish_git_release_using_subcommand images; and __fish_seen_subcommand_from sync" -s h -l help -d 'Print help'
complete -c git-release -n "__fish_git_release_using_subcommand images; and __fish_seen_subcommand_from sync" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_using_subcommand hotfix" -s o -l output -d 'Folder to write the package to' -r -F
complete -c git-release -n "__fish_git_release_using_subcommand hotfix" -l date -d 'Date in the hotfix version, YYYYMMDD or YYYY-MM-DD [default: NEW\'s commit date, UTC]' -r
complete -c git-release -n "__fish_git_release_using_subcommand hotfix" -l base-version -d 'Product version the hotfix applies to [default: BASE when it is a release tag, else the nearest release tag reachable from BASE]' -r
complete -c git-release -n "__fish_git_release_using_subcommand hotfix" -l owner -d 'Owner and group id of every archive entry (tar holds up to 2097151)' -r
complete -c git-release -n "__fish_git_release_using_subcommand hotfix" -l platform -d 'Platform of the packed images (a multi-arch index is resolved to it)' -r
complete -c git-release -n "__fish_git_release_using_subcommand hotfix" -l allow-same-version -d 'Ship a chart whose content changed under its old Chart.yaml version (recorded in the manifest)'
complete -c git-release -n "__fish_git_release_using_subcommand hotfix" -l tag -d 'Record the hotfix as an annotated tag <release.hotfixTagPrefix><version> on NEW (never moved)'
complete -c git-release -n "__fish_git_release_using_subcommand hotfix" -l per-addon -d 'One package per changed chart instead of one for all. In the caicloud layout (seed 001) each is `<product>-hotfixes-<addon>-<HOTFIXVERSION>.tar.gz` and holds a single-file addon\'s YAML under `<namespace>/<group>/<addon>/`'
complete -c git-release -n "__fish_git_release_using_subcommand hotfix" -l record -d 'Also record each package\'s contents (images archives left out) in the work tree under `release-hotfixes/<base>/<YYYYMMDD>/<package>/`, as seed 001\'s hotfix pull requests do; with --commit, as a commit'
complete -c git-release -n "__fish_git_release_using_subcommand hotfix" -l commit -d 'Commit what the command wrote (only those paths), as `git commit -- <paths>` does: hooks and signing included'
complete -c git-release -n "__fish_git_release_using_subcommand hotfix" -l no-verify -d 'With --commit: skip the pre-commit and commit-msg hooks, as `git commit --no-verify`'
complete -c git-release -n "__fish_git_release_using_subcommand hotfix" -l allow-other-platform -d 'Pack an image that has no --platform image as it is (an index\'s first), with a warning per image; without it such images refuse the package (exit 3)'
complete -c git-release -n "__fish_git_release_using_subcommand hotfix" -l sign -d 'Sign the manifest (`<manifest>.sig` inside) and the package (`<package>.sig` beside it) with git\'s signing set-up (`gpg.format`, `user.signingKey`), as `git tag -s` does; `release.signPackages=true` signs every package'
complete -c git-release -n "__fish_git_release_using_subcommand hotfix" -l no-test-images -d 'Leave out the images only `helm test` hooks run (`images_test.list`): the site will not run `helm test`'
complete -c git-release -n "__fish_git_release_using_subcommand hotfix" -s n -l dry-run -d 'Print the plan (charts, versions, images, name); write nothing'
complete -c git-release -n "__fish_git_release_using_subcommand hotfix" -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git-release -n "__fish_git_release_using_subcommand hotfix" -l images -d 'Also pack the images added or changed in the range into `images.tar` (an OCI image layout; see `package --images`); with --per-addon, each package gets its addon\'s own'
complete -c git-release -n "__fish_git_release_using_subcommand hotfix" -l no-cache -d 'Render every chart this run instead of reading the images found earlier from the render cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good)'
complete -c git-release -n "__fish_git_release_using_subcommand hotfix" -s h -l help -d 'Print help'
complete -c git-release -n "__fish_git_release_using_subcommand hotfix" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_using_subcommand package" -s o -l output -d 'Folder to write the package to' -r -F
complete -c git-release -n "__fish_git_release_using_subcommand package" -l owner -d 'Owner and group id of every archive entry (tar holds up to 2097151)' -r
complete -c git-release -n "__fish_git_release_using_subcommand package" -l platform -d 'Platform of the packed images (a multi-arch index is resolved to it)' -r
complete -c git-release -n "__fish_git_release_using_subcommand package" -l allow-other-platform -d 'Pack an image that has no --platform image as it is (an index\'s first), with a warning per image; without it such images refuse the package (exit 3)'
complete -c git-release -n "__fish_git_release_using_subcommand package" -l sign -d 'Sign the manifest (`<manifest>.sig` inside) and the package (`<package>.sig` beside it) with git\'s signing set-up (`gpg.format`, `user.signingKey`), as `git tag -s` does; `release.signPackages=true` signs every package'
complete -c git-release -n "__fish_git_release_using_subcommand package" -l no-test-images -d 'Leave out the images only `helm test` hooks run (`images_test.list`): the site will not run `helm test`'
complete -c git-release -n "__fish_git_release_using_subcommand package" -s n -l dry-run -d 'Print what would be packaged; write nothing'
complete -c git-release -n "__fish_git_release_using_subcommand package" -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git-release -n "__fish_git_release_using_subcommand package" -l images -d 'Also pack every image of the lists into `images/images.tar` (an OCI image layout that docker, podman, nerdctl and ctr load as it is), pulled from its registry once and then served from the blob cache under the git dir'
complete -c git-release -n "__fish_git_release_using_subcommand package" -l no-cache -d 'Render every chart this run instead of reading the images found earlier from the render cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good)'
complete -c git-release -n "__fish_git_release_using_subcommand package" -s h -l help -d 'Print help'
complete -c git-release -n "__fish_git_release_using_subcommand package" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_using_subcommand upgrade" -s o -l output -d 'Folder to write the package to' -r -F
complete -c git-release -n "__fish_git_release_using_subcommand upgrade" -l owner -d 'Owner and group id of every archive entry (tar holds up to 2097151)' -r
complete -c git-release -n "__fish_git_release_using_subcommand upgrade" -l platform -d 'Platform of the packed images (a multi-arch index is resolved to it)' -r
complete -c git-release -n "__fish_git_release_using_subcommand upgrade" -l images -d 'Also pack the images TO needs that FROM did not have into `images/images.tar` (an OCI image layout), without the layers FROM\'s images already brought to the site'
complete -c git-release -n "__fish_git_release_using_subcommand upgrade" -l allow-downgrade -d 'Allow a chart, or the product version, to go down from FROM to TO'
complete -c git-release -n "__fish_git_release_using_subcommand upgrade" -l allow-other-platform -d 'Pack an image that has no --platform image as it is (an index\'s first), with a warning per image; without it such images refuse the package (exit 3)'
complete -c git-release -n "__fish_git_release_using_subcommand upgrade" -l sign -d 'Sign the manifest (`<manifest>.sig` inside) and the package (`<package>.sig` beside it) with git\'s signing set-up (`gpg.format`, `user.signingKey`), as `git tag -s` does; `release.signPackages=true` signs every package'
complete -c git-release -n "__fish_git_release_using_subcommand upgrade" -l no-test-images -d 'Leave out the images only `helm test` hooks run (`images_test.list`): the site will not run `helm test`'
complete -c git-release -n "__fish_git_release_using_subcommand upgrade" -s n -l dry-run -d 'Print the plan (charts, removals, order, images, name); write nothing, ask no registry'
complete -c git-release -n "__fish_git_release_using_subcommand upgrade" -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git-release -n "__fish_git_release_using_subcommand upgrade" -l no-cache -d 'Render every chart this run instead of reading the images found earlier from the render cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good)'
complete -c git-release -n "__fish_git_release_using_subcommand upgrade" -s h -l help -d 'Print help'
complete -c git-release -n "__fish_git_release_using_subcommand upgrade" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and not __fish_seen_subcommand_from list package bump" -s h -l help -d 'Print help'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and not __fish_seen_subcommand_from list package bump" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and not __fish_seen_subcommand_from list package bump" -f -a "list" -d 'List the plugins of a revision: name, version, image, port, slots, requirement'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and not __fish_seen_subcommand_from list package bump" -f -a "package" -d 'Package one plugin: its file, with --images its image, an SBOM and checksums'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and not __fish_seen_subcommand_from list package bump" -f -a "bump" -d 'Raise a plugin\'s spec.version and its image tag together, in place'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and __fish_seen_subcommand_from list" -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and __fish_seen_subcommand_from list" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and __fish_seen_subcommand_from package" -s o -l output -d 'Folder to write the package to' -r -F
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and __fish_seen_subcommand_from package" -l owner -d 'Owner and group id of every archive entry (tar holds up to 2097151)' -r
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and __fish_seen_subcommand_from package" -l platform -d 'Platform of the packed images (a multi-arch index is resolved to it)' -r
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and __fish_seen_subcommand_from package" -l images -d 'Also pack the plugin\'s image into `images/images.tar` (an OCI image layout, as every package has it)'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and __fish_seen_subcommand_from package" -l allow-other-platform -d 'Pack an image that has no --platform image as it is (an index\'s first), with a warning per image; without it such images refuse the package (exit 3)'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and __fish_seen_subcommand_from package" -l sign -d 'Sign the manifest (`<manifest>.sig` inside) and the package (`<package>.sig` beside it) with git\'s signing set-up (`gpg.format`, `user.signingKey`), as `git tag -s` does; `release.signPackages=true` signs every package'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and __fish_seen_subcommand_from package" -l no-test-images -d 'Leave out the images only `helm test` hooks run (`images_test.list`): the site will not run `helm test`'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and __fish_seen_subcommand_from package" -s n -l dry-run -d 'Print what would be written; write nothing'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and __fish_seen_subcommand_from package" -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and __fish_seen_subcommand_from package" -s h -l help -d 'Print help'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and __fish_seen_subcommand_from package" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and __fish_seen_subcommand_from bump" -l minor -d 'Raise the minor version (v0.1.3 -> v0.2.0) instead of the patch'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and __fish_seen_subcommand_from bump" -l major -d 'Raise the major version (v0.1.3 -> v1.0.0)'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and __fish_seen_subcommand_from bump" -l commit -d 'Commit what the command wrote (only those paths), as `git commit -- <paths>` does: hooks and signing included'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and __fish_seen_subcommand_from bump" -l no-verify -d 'With --commit: skip the pre-commit and commit-msg hooks, as `git commit --no-verify`'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and __fish_seen_subcommand_from bump" -s n -l dry-run -d 'Print the change; write nothing'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and __fish_seen_subcommand_from bump" -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and __fish_seen_subcommand_from bump" -s h -l help -d 'Print help'
complete -c git-release -n "__fish_git_release_using_subcommand plugin; and __fish_seen_subcommand_from bump" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_using_subcommand verify" -l allowed-signers -d 'The ssh allowed signers file to check an ssh signature against [default: gpg.ssh.allowedSignersFile of git\'s configuration]' -r -F
complete -c git-release -n "__fish_git_release_using_subcommand verify" -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git-release -n "__fish_git_release_using_subcommand verify" -s h -l help -d 'Print help'
complete -c git-release -n "__fish_git_release_using_subcommand verify" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_using_subcommand push" -l registry -d 'The site\'s registry, `host[:port][/prefix]`: what `[[ registry_release ]]` stands for there' -r
complete -c git-release -n "__fish_git_release_using_subcommand push" -l set -d 'The value of an install-time placeholder `[[ NAME ]]` in the charts (repeatable)' -r
complete -c git-release -n "__fish_git_release_using_subcommand push" -l charts-out -d 'Write every chart of the package here, placeholders filled in' -r -F
complete -c git-release -n "__fish_git_release_using_subcommand push" -l allowed-signers -d 'The ssh allowed signers file a signed package\'s signatures are checked against [default: gpg.ssh.allowedSignersFile of git\'s configuration]' -r -F
complete -c git-release -n "__fish_git_release_using_subcommand push" -l insecure -d 'Speak plain HTTP to SITE (localhost and 127.0.0.1 always are, as docker does)'
complete -c git-release -n "__fish_git_release_using_subcommand push" -s n -l dry-run -d 'Say what would be pushed and written; push and write nothing'
complete -c git-release -n "__fish_git_release_using_subcommand push" -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git-release -n "__fish_git_release_using_subcommand push" -s h -l help -d 'Print help'
complete -c git-release -n "__fish_git_release_using_subcommand push" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_using_subcommand tag" -s m -l message -d 'Text added to the tag message (after the addon versions)' -r
complete -c git-release -n "__fish_git_release_using_subcommand tag" -l remote -d 'Remote whose tags are checked too' -r
complete -c git-release -n "__fish_git_release_using_subcommand tag" -s s -l sign -d 'Sign the tag with the configured key (gpg.format, user.signingKey), as `git tag -s`; `tag.gpgSign` makes it the default'
complete -c git-release -n "__fish_git_release_using_subcommand tag" -l offline -d 'Skip the remote check (no network); the local checks still run'
complete -c git-release -n "__fish_git_release_using_subcommand tag" -s n -l dry-run -d 'Print what would be tagged; create nothing'
complete -c git-release -n "__fish_git_release_using_subcommand tag" -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git-release -n "__fish_git_release_using_subcommand tag" -s h -l help -d 'Print help'
complete -c git-release -n "__fish_git_release_using_subcommand tag" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_using_subcommand protect" -l hook -d 'Run as the hook NAME (used by the installed hooks; reads the ref updates on stdin)' -r
complete -c git-release -n "__fish_git_release_using_subcommand protect" -l check -d 'Only report whether protection is installed (exit 0 when it is, 3 when not)'
complete -c git-release -n "__fish_git_release_using_subcommand protect" -l uninstall -d 'Remove git-release\'s hooks and restore the hooks they chained to'
complete -c git-release -n "__fish_git_release_using_subcommand protect" -s n -l dry-run -d 'Print what would be installed, chained or removed; change nothing'
complete -c git-release -n "__fish_git_release_using_subcommand protect" -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git-release -n "__fish_git_release_using_subcommand protect" -s h -l help -d 'Print help'
complete -c git-release -n "__fish_git_release_using_subcommand protect" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_using_subcommand branch" -l from -d 'Start point [default: the newest release tag of the line; for a customer, the line\'s branch]' -r
complete -c git-release -n "__fish_git_release_using_subcommand branch" -l at-version -d 'Lazy branching: start at the first commit (first-parent history) where the version file reached VERSION; a tag for that version wins' -r
complete -c git-release -n "__fish_git_release_using_subcommand branch" -l version-file -d 'With --at-version: the plain-text version file [default: VERSION]' -r
complete -c git-release -n "__fish_git_release_using_subcommand branch" -l chart -d 'With --at-version: read the version from this chart\'s Chart.yaml instead' -r
complete -c git-release -n "__fish_git_release_using_subcommand branch" -l template -d 'Branch name template for this run ({line}, {customer})' -r
complete -c git-release -n "__fish_git_release_using_subcommand branch" -l list -d 'List release lines, OEM branches and their newest release and hotfix tags'
complete -c git-release -n "__fish_git_release_using_subcommand branch" -s n -l dry-run -d 'Print what would be created; create nothing'
complete -c git-release -n "__fish_git_release_using_subcommand branch" -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git-release -n "__fish_git_release_using_subcommand branch" -s h -l help -d 'Print help'
complete -c git-release -n "__fish_git_release_using_subcommand branch" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_using_subcommand cherry-pick" -l onto -d 'Release line (2.10) or OEM branch (2.10/acme) to apply them to' -r
complete -c git-release -n "__fish_git_release_using_subcommand cherry-pick" -s n -l dry-run -d 'Print the resulting diff; change nothing'
complete -c git-release -n "__fish_git_release_using_subcommand cherry-pick" -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git-release -n "__fish_git_release_using_subcommand cherry-pick" -l no-cache -d 'Render every chart this run instead of reading the images found earlier from the render cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good)'
complete -c git-release -n "__fish_git_release_using_subcommand cherry-pick" -s h -l help -d 'Print help'
complete -c git-release -n "__fish_git_release_using_subcommand cherry-pick" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_using_subcommand bump" -l version-file -d 'The plain-text version file [default: VERSION, when present]' -r
complete -c git-release -n "__fish_git_release_using_subcommand bump" -l next-minor -d 'After a release, on master: VERSION 1.2.n -> 1.3.0-dev, charts to their next minor (no -dev)'
complete -c git-release -n "__fish_git_release_using_subcommand bump" -l commit -d 'Commit what the command wrote (only those paths), as `git commit -- <paths>` does: hooks and signing included'
complete -c git-release -n "__fish_git_release_using_subcommand bump" -l no-verify -d 'With --commit: skip the pre-commit and commit-msg hooks, as `git commit --no-verify`'
complete -c git-release -n "__fish_git_release_using_subcommand bump" -s n -l dry-run -d 'Print the diff; write nothing'
complete -c git-release -n "__fish_git_release_using_subcommand bump" -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git-release -n "__fish_git_release_using_subcommand bump" -s h -l help -d 'Print help'
complete -c git-release -n "__fish_git_release_using_subcommand bump" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_using_subcommand log" -l max-count -d 'Show at most N releases and hotfixes' -r
complete -c git-release -n "__fish_git_release_using_subcommand log" -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git-release -n "__fish_git_release_using_subcommand log" -s h -l help -d 'Print help'
complete -c git-release -n "__fish_git_release_using_subcommand log" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_using_subcommand diff" -l all -d 'Also list the components and charts that did not change'
complete -c git-release -n "__fish_git_release_using_subcommand diff" -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git-release -n "__fish_git_release_using_subcommand diff" -l no-cache -d 'Render every chart this run instead of reading the images found earlier from the render cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good)'
complete -c git-release -n "__fish_git_release_using_subcommand diff" -s h -l help -d 'Print help'
complete -c git-release -n "__fish_git_release_using_subcommand diff" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_using_subcommand contains" -l all -d 'List every ref that lacks the change [default: branches, and each line\'s newest release or hotfix when it lacks it]'
complete -c git-release -n "__fish_git_release_using_subcommand contains" -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git-release -n "__fish_git_release_using_subcommand contains" -s h -l help -d 'Print help'
complete -c git-release -n "__fish_git_release_using_subcommand contains" -s V -l version -d 'Print version'
complete -c git-release -n "__fish_git_release_using_subcommand generate" -l out -d 'Output folder' -r -F
complete -c git-release -n "__fish_git_release_using_subcommand generate" -l install -d 'Man pages: write them where `man` (and so `git release --help`, `git help release`) finds them for executables on PATH: `share/man/man1` beside the folder of this executable (`~/.cargo/bin` -> `~/.cargo/share/man/man1`)'
complete -c git-release -n "__fish_git_release_using_subcommand generate" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c git-release -n "__fish_git_release_using_subcommand generate" -s V -l version -d 'Print version'

# `git release <TAB>` (generated; see _git_release in git-release.bash for the same rules)
complete -c git -n '__fish_seen_subcommand_from release; and not __fish_seen_subcommand_from init collect check images hotfix package upgrade verify push plugin tag protect branch cherry-pick bump log diff contains' -f -a 'init collect check images hotfix package upgrade verify push plugin tag protect branch cherry-pick bump log diff contains'
# Release tags at REV positions, both sides of A..B.
function __git_release_tags
set -l tok (commandline -ct)
set -l pfx (string match -r '^.*\.\.\.?' -- $tok)
for t in (git for-each-ref --format='%(refname:short)' refs/tags refs/heads 2>/dev/null) HEAD
echo "$pfx$t"
end
end
# collect --tag=COMPONENT=TAG: the component, then its own tags (the value after --tag=).
function __git_release_pins
set -l val (string replace -r '^--tag=' '' -- (commandline -ct))
if string match -q -- '*=*' $val
set -l c (string replace -r '=.*' '' -- $val)
for t in (git release __component_tags $c 2>/dev/null)
echo "$c=$t"
end
else
for c in (git release __components 2>/dev/null)
echo "$c="
end
end
end
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from hotfix package upgrade check images tag diff' -f -a '(__git_release_tags)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from cherry-pick contains' -f -a '(git for-each-ref --format="%(refname:short)" refs/heads refs/tags 2>/dev/null)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from cherry-pick contains' -l onto -x -a '(git release __targets 2>/dev/null)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from branch' -f -a '(git release __targets 2>/dev/null)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from log' -f -a '(git release __targets lines 2>/dev/null)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from collect' -f -a '(git release __components 2>/dev/null)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from images' -f -a sync -d 'copy mirrored images into the internal registry'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from init' -l product -r -d 'Product name written to .gitrelease [default: the repository folder\'s name]'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from init' -l layout -r -d 'Which layout to create: `helm` (charts under addons/, repos/*.yaml, version.yml, images/) or `caicloud` (single-file addons under addons/<group>/, charts_list.yaml and release_charts.yaml, compass.yaml and mini-compass.yaml, images-lists/); written to .gitrelease as release.layout'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from init' -l dry-run -s n -d 'Print what would be created; create nothing'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from init' -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from collect' -l jobs -s j -r -d 'Fetch this many component repositories at once [default: twice the CPUs, 4 to 16; at most 64]'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from collect' -l offline -d 'Use only the component cache in the git dir; never connect to a remote (a warning says when the cache was last fetched)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from collect' -l pre -d 'Consider pre-release tags (v1.2.0-rc.1) too'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from collect' -l allow-downgrade -d 'Allow picking a tag lower than the entry\'s currentTag'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from collect' -l theirs -d 'Where a collected file was changed both here and upstream, take upstream\'s version and drop the local change (the plan lists each file). Files only the work tree has are kept'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from collect' -l tag -x -a '(__git_release_pins)' -d 'Collect COMPONENT at TAG instead of its newest release tag (repeatable)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from collect' -l dry-run -s n -d 'Write nothing; print the unified diff of every file that would change'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from collect' -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from collect' -l commit -d 'Commit what the command wrote (only those paths), as `git commit -- <paths>` does: hooks and signing included'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from collect' -l no-verify -d 'With --commit: skip the pre-commit and commit-msg hooks, as `git commit --no-verify`'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from collect' -l component-url -r -d 'Override release.componentUrl for this run: a template with {repo}, {owner}, {name}'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from collect' -l quiet -s q -d 'No progress display'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from collect' -l log -d 'Under the table, the commits each component moved by (first-parent, merges summarised)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from collect' -l changelog -r -d 'Write the changes, commits and held-back tags as Markdown to FILE (a merge request description); written in dry runs too'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from collect' -l all -d 'List every component in the table, unchanged ones too'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from collect' -l no-cache -d 'Render every chart this run instead of reading the images found earlier from the render cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from check' -l history -d 'Also audit every release and hotfix tag against each other (chart-version-reused)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from check' -l offline -d 'Skip the rules that need the network (image-missing)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from check' -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from check' -l no-cache -d 'Render every chart this run instead of reading the images found earlier from the render cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from images' -l why -r -d 'Only this image (an exact reference, or text the references contain): where it comes from'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from images' -l lock -d 'Write `images/images.lock`: the digest each image of REV\'s lists names now in its registry; package, hotfix and upgrade then pull by it (commit the file)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from images' -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from images' -l no-cache -d 'Render every chart this run instead of reading the images found earlier from the render cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from hotfix' -l output -s o -r -d 'Folder to write the package to'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from hotfix' -l date -r -d 'Date in the hotfix version, YYYYMMDD or YYYY-MM-DD [default: NEW\'s commit date, UTC]'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from hotfix' -l allow-same-version -d 'Ship a chart whose content changed under its old Chart.yaml version (recorded in the manifest)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from hotfix' -l base-version -r -d 'Product version the hotfix applies to [default: BASE when it is a release tag, else the nearest release tag reachable from BASE]'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from hotfix' -l tag -d 'Record the hotfix as an annotated tag <release.hotfixTagPrefix><version> on NEW (never moved)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from hotfix' -l per-addon -d 'One package per changed chart instead of one for all. In the caicloud layout (seed 001) each is `<product>-hotfixes-<addon>-<HOTFIXVERSION>.tar.gz` and holds a single-file addon\'s YAML under `<namespace>/<group>/<addon>/`'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from hotfix' -l record -d 'Also record each package\'s contents (images archives left out) in the work tree under `release-hotfixes/<base>/<YYYYMMDD>/<package>/`, as seed 001\'s hotfix pull requests do; with --commit, as a commit'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from hotfix' -l commit -d 'Commit what the command wrote (only those paths), as `git commit -- <paths>` does: hooks and signing included'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from hotfix' -l no-verify -d 'With --commit: skip the pre-commit and commit-msg hooks, as `git commit --no-verify`'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from hotfix' -l owner -r -d 'Owner and group id of every archive entry (tar holds up to 2097151)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from hotfix' -l platform -r -d 'Platform of the packed images (a multi-arch index is resolved to it)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from hotfix' -l allow-other-platform -d 'Pack an image that has no --platform image as it is (an index\'s first), with a warning per image; without it such images refuse the package (exit 3)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from hotfix' -l sign -d 'Sign the manifest (`<manifest>.sig` inside) and the package (`<package>.sig` beside it) with git\'s signing set-up (`gpg.format`, `user.signingKey`), as `git tag -s` does; `release.signPackages=true` signs every package'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from hotfix' -l no-test-images -d 'Leave out the images only `helm test` hooks run (`images_test.list`): the site will not run `helm test`'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from hotfix' -l dry-run -s n -d 'Print the plan (charts, versions, images, name); write nothing'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from hotfix' -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from hotfix' -l images -d 'Also pack the images added or changed in the range into `images.tar` (an OCI image layout; see `package --images`); with --per-addon, each package gets its addon\'s own'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from hotfix' -l no-cache -d 'Render every chart this run instead of reading the images found earlier from the render cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from package' -l output -s o -r -d 'Folder to write the package to'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from package' -l owner -r -d 'Owner and group id of every archive entry (tar holds up to 2097151)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from package' -l platform -r -d 'Platform of the packed images (a multi-arch index is resolved to it)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from package' -l allow-other-platform -d 'Pack an image that has no --platform image as it is (an index\'s first), with a warning per image; without it such images refuse the package (exit 3)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from package' -l sign -d 'Sign the manifest (`<manifest>.sig` inside) and the package (`<package>.sig` beside it) with git\'s signing set-up (`gpg.format`, `user.signingKey`), as `git tag -s` does; `release.signPackages=true` signs every package'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from package' -l no-test-images -d 'Leave out the images only `helm test` hooks run (`images_test.list`): the site will not run `helm test`'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from package' -l dry-run -s n -d 'Print what would be packaged; write nothing'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from package' -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from package' -l images -d 'Also pack every image of the lists into `images/images.tar` (an OCI image layout that docker, podman, nerdctl and ctr load as it is), pulled from its registry once and then served from the blob cache under the git dir'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from package' -l no-cache -d 'Render every chart this run instead of reading the images found earlier from the render cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from upgrade' -l output -s o -r -d 'Folder to write the package to'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from upgrade' -l images -d 'Also pack the images TO needs that FROM did not have into `images/images.tar` (an OCI image layout), without the layers FROM\'s images already brought to the site'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from upgrade' -l allow-downgrade -d 'Allow a chart, or the product version, to go down from FROM to TO'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from upgrade' -l owner -r -d 'Owner and group id of every archive entry (tar holds up to 2097151)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from upgrade' -l platform -r -d 'Platform of the packed images (a multi-arch index is resolved to it)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from upgrade' -l allow-other-platform -d 'Pack an image that has no --platform image as it is (an index\'s first), with a warning per image; without it such images refuse the package (exit 3)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from upgrade' -l sign -d 'Sign the manifest (`<manifest>.sig` inside) and the package (`<package>.sig` beside it) with git\'s signing set-up (`gpg.format`, `user.signingKey`), as `git tag -s` does; `release.signPackages=true` signs every package'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from upgrade' -l no-test-images -d 'Leave out the images only `helm test` hooks run (`images_test.list`): the site will not run `helm test`'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from upgrade' -l dry-run -s n -d 'Print the plan (charts, removals, order, images, name); write nothing, ask no registry'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from upgrade' -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from upgrade' -l no-cache -d 'Render every chart this run instead of reading the images found earlier from the render cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from verify' -l allowed-signers -r -d 'The ssh allowed signers file to check an ssh signature against [default: gpg.ssh.allowedSignersFile of git\'s configuration]'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from verify' -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from push' -l registry -r -d 'The site\'s registry, `host[:port][/prefix]`: what `[[ registry_release ]]` stands for there'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from push' -l insecure -d 'Speak plain HTTP to SITE (localhost and 127.0.0.1 always are, as docker does)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from push' -l set -r -d 'The value of an install-time placeholder `[[ NAME ]]` in the charts (repeatable)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from push' -l charts-out -r -d 'Write every chart of the package here, placeholders filled in'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from push' -l allowed-signers -r -d 'The ssh allowed signers file a signed package\'s signatures are checked against [default: gpg.ssh.allowedSignersFile of git\'s configuration]'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from push' -l dry-run -s n -d 'Say what would be pushed and written; push and write nothing'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from push' -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from tag' -l message -s m -r -d 'Text added to the tag message (after the addon versions)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from tag' -l sign -s s -d 'Sign the tag with the configured key (gpg.format, user.signingKey), as `git tag -s`; `tag.gpgSign` makes it the default'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from tag' -l remote -r -d 'Remote whose tags are checked too'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from tag' -l offline -d 'Skip the remote check (no network); the local checks still run'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from tag' -l dry-run -s n -d 'Print what would be tagged; create nothing'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from tag' -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from protect' -l check -d 'Only report whether protection is installed (exit 0 when it is, 3 when not)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from protect' -l uninstall -d 'Remove git-release\'s hooks and restore the hooks they chained to'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from protect' -l dry-run -s n -d 'Print what would be installed, chained or removed; change nothing'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from protect' -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from branch' -l from -r -d 'Start point [default: the newest release tag of the line; for a customer, the line\'s branch]'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from branch' -l at-version -r -d 'Lazy branching: start at the first commit (first-parent history) where the version file reached VERSION; a tag for that version wins'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from branch' -l version-file -r -d 'With --at-version: the plain-text version file [default: VERSION]'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from branch' -l chart -r -d 'With --at-version: read the version from this chart\'s Chart.yaml instead'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from branch' -l template -r -d 'Branch name template for this run ({line}, {customer})'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from branch' -l list -d 'List release lines, OEM branches and their newest release and hotfix tags'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from branch' -l dry-run -s n -d 'Print what would be created; create nothing'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from branch' -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from cherry-pick' -l dry-run -s n -d 'Print the resulting diff; change nothing'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from cherry-pick' -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from cherry-pick' -l no-cache -d 'Render every chart this run instead of reading the images found earlier from the render cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from bump' -l next-minor -d 'After a release, on master: VERSION 1.2.n -> 1.3.0-dev, charts to their next minor (no -dev)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from bump' -l version-file -r -d 'The plain-text version file [default: VERSION, when present]'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from bump' -l commit -d 'Commit what the command wrote (only those paths), as `git commit -- <paths>` does: hooks and signing included'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from bump' -l no-verify -d 'With --commit: skip the pre-commit and commit-msg hooks, as `git commit --no-verify`'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from bump' -l dry-run -s n -d 'Print the diff; write nothing'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from bump' -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from log' -l max-count -r -d 'Show at most N releases and hotfixes'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from log' -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from diff' -l all -d 'Also list the components and charts that did not change'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from diff' -l json -d 'Print the result as JSON on stdout (for scripts)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from diff' -l no-cache -d 'Render every chart this run instead of reading the images found earlier from the render cache (`.git/release/cache/render/`; `release.renderCache=false` turns it off for good)'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from contains' -l all -d 'List every ref that lacks the change [default: branches, and each line\'s newest release or hotfix when it lacks it]'
complete -c git -n '__fish_seen_subcommand_from release; and __fish_seen_subcommand_from contains' -l json -d 'Print the result as JSON on stdout (for scripts)'
