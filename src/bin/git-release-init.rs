fn main() -> std::process::ExitCode {
    git_release::cli::main_for("init", git_release::commands::init::run)
}
