fn main() -> std::process::ExitCode {
    git_release::cli::main_for("bump", git_release::commands::bump::run)
}
