fn main() -> std::process::ExitCode {
    git_release::cli::main_for("contains", git_release::commands::contains::run)
}
