fn main() -> std::process::ExitCode {
    git_release::cli::main_for("branch", git_release::commands::branch::run)
}
