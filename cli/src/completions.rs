//! `fledge completions SHELL`: print a shell completion script (clap_complete).

use clap::CommandFactory;
use clap_complete::Shell;
use std::process::ExitCode;

/// Where each shell looks for the script, shown in `fledge completions --help`.
pub const AFTER_HELP: &str = "\
Install (then open a new shell):
  bash:  fledge completions bash > ~/.local/share/bash-completion/completions/fledge
  zsh:   fledge completions zsh > ~/.zfunc/_fledge   (with fpath+=~/.zfunc before compinit in ~/.zshrc)
  fish:  fledge completions fish > ~/.config/fish/completions/fledge.fish";

pub fn run(shell: Shell) -> ExitCode {
    // Generated into memory first: clap_complete panics on a write error, and `| head` is not one.
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut crate::Cli::command(), "fledge", &mut script);
    match std::io::Write::write_all(&mut std::io::stdout().lock(), &script) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("fledge: cannot write the completion script: {e}");
            ExitCode::from(2)
        }
        _ => ExitCode::SUCCESS,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn script(shell: Shell) -> String {
        let mut buf = Vec::new();
        clap_complete::generate(shell, &mut crate::Cli::command(), "fledge", &mut buf);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn scripts_name_the_subcommands_and_options() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let s = script(shell);
            for word in ["check", "graph", "rule", "init", "completions", "format", "sarif", "github"] {
                assert!(s.contains(word), "{shell}: no `{word}`");
            }
        }
    }

    #[test]
    fn bash_script_loads() {
        // Only where bash exists (it does on every supported CI machine).
        let Ok(status) = std::process::Command::new("bash").arg("--version").output() else { return };
        assert!(status.status.success());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fledge.bash");
        std::fs::write(&path, script(Shell::Bash)).unwrap();
        let out = std::process::Command::new("bash")
            .args(["-c", &format!("source '{}' && complete -p fledge", path.display())])
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(String::from_utf8_lossy(&out.stdout).contains("fledge"));
    }
}
