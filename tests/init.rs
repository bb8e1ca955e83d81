//! `git release init`.

use crate::util::Sandbox;

#[test]
fn init_creates_layout_and_never_overwrites() {
    let sb = Sandbox::new();
    let repo = sb.repo("platform");
    repo.write("version.yml", "# mine\nspec: {}\n");
    let run = repo.release(&["init", "--product", "demo"]).ok();
    assert!(run.stdout.contains("create  .gitrelease"), "{}", run.stdout);
    assert!(
        run.stdout.contains("keep    version.yml (exists)"),
        "{}",
        run.stdout
    );
    assert_eq!(repo.read("version.yml"), "# mine\nspec: {}\n");
    for p in [
        "repos/components.yaml",
        "addons/.gitkeep",
        "images/images_platform.list",
        "configs/.gitkeep",
        "scripts/.gitkeep",
    ] {
        assert!(repo.exists(p), "{p} missing");
    }
    assert!(repo.read(".gitrelease").contains("product = demo"));
    // The created settings file is valid git-config syntax.
    assert_eq!(
        repo.git(&["config", "-f", ".gitrelease", "release.addonsPath"])
            .trim(),
        "addons"
    );
    assert!(repo
        .read(".gitrelease")
        .contains("\tcomponentUrl = https://github.com/{repo}.git\n"));
    // A re-run changes nothing.
    repo.write(".gitrelease", "[release]\n\tproduct = edited\n");
    let run = repo.release(&["init"]).ok();
    assert!(run.stdout.contains("0 file(s) created"), "{}", run.stdout);
    assert_eq!(repo.read(".gitrelease"), "[release]\n\tproduct = edited\n");
    // The empty layout collects nothing, cleanly.
    repo.release(&["collect"]).ok();
}

#[test]
fn init_dry_run_writes_nothing() {
    let sb = Sandbox::new();
    let repo = sb.repo("p");
    let run = repo.release(&["init", "--dry-run"]).ok();
    assert!(run.stdout.contains("would be created"));
    assert_eq!(repo.status(), "");
}

/// Regression: the version.yml template lost its indentation (`modules:` at column 0).
#[test]
fn init_templates_are_well_formed() {
    let sb = Sandbox::new();
    let repo = sb.repo("p");
    repo.release(&["init"]).ok();
    let v = repo.read("version.yml");
    assert!(
        v.contains("\nspec:\n  modules: []\n  # - name: core\n"),
        "{v}"
    );
    assert!(repo
        .read("repos/components.yaml")
        .contains("\n#   chartPaths:                        # chart folders"));
    // A component added under the template's spec.modules gets its version recorded by collect.
    assert!(repo.read("repos/components.yaml").ends_with("[]\n"));
}
