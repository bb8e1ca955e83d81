fn main() -> std::process::ExitCode {
    git_release::cli::main_for("upgrade", git_release::commands::upgrade::run)
}
