fn main() -> std::process::ExitCode {
    git_release::cli::main_for("images", git_release::commands::images::run)
}
