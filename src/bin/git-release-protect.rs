fn main() -> std::process::ExitCode {
    git_release::cli::main_for("protect", git_release::commands::protect::run)
}
