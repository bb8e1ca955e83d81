fn main() -> std::process::ExitCode {
    git_release::cli::main_for("cherry-pick", git_release::commands::cherry_pick::run)
}
