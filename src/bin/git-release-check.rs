fn main() -> std::process::ExitCode {
    git_release::cli::main_for("check", git_release::commands::check::run)
}
