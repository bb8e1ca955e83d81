fn main() -> std::process::ExitCode {
    git_release::cli::main_for("verify", git_release::commands::verify::run)
}
