fn main() -> std::process::ExitCode {
    git_release::cli::main_for("log", git_release::commands::log::run)
}
