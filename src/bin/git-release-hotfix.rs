fn main() -> std::process::ExitCode {
    git_release::cli::main_for("hotfix", git_release::commands::hotfix::run)
}
