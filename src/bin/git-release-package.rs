fn main() -> std::process::ExitCode {
    git_release::cli::main_for("package", git_release::commands::package::run)
}
