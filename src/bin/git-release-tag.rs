fn main() -> std::process::ExitCode {
    git_release::cli::main_for("tag", git_release::commands::tag::run)
}
