fn main() -> std::process::ExitCode {
    git_release::cli::main_for("diff", git_release::commands::diff::run)
}
