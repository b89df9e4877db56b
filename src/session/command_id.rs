//! One identifier per leaf command of the grammar, spelled as the CLI spells it.

use crate::grammar::{ClusterCommand, Command, KeyCommand, UserCommand};

/// A leaf command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum CommandId {
    Interactive,
    Quit,
    Login,
    Logout,
    ClusterActivate,
    ClusterHsmInfo,
    KeyList,
    KeyDelete,
    KeyShare,
    KeyUnshare,
    KeySetAttribute,
    UserList,
    UserCreate,
    UserDelete,
    UserChangePassword,
}

impl CommandId {
    /// Every command, in grammar order.
    pub const ALL: &'static [CommandId] = &[
        CommandId::Interactive,
        CommandId::Quit,
        CommandId::Login,
        CommandId::Logout,
        CommandId::ClusterActivate,
        CommandId::ClusterHsmInfo,
        CommandId::KeyList,
        CommandId::KeyDelete,
        CommandId::KeyShare,
        CommandId::KeyUnshare,
        CommandId::KeySetAttribute,
        CommandId::UserList,
        CommandId::UserCreate,
        CommandId::UserDelete,
        CommandId::UserChangePassword,
    ];

    /// The command path as typed, e.g. `user change-password`.
    pub fn name(self) -> &'static str {
        match self {
            CommandId::Interactive => "interactive",
            CommandId::Quit => "quit",
            CommandId::Login => "login",
            CommandId::Logout => "logout",
            CommandId::ClusterActivate => "cluster activate",
            CommandId::ClusterHsmInfo => "cluster hsm-info",
            CommandId::KeyList => "key list",
            CommandId::KeyDelete => "key delete",
            CommandId::KeyShare => "key share",
            CommandId::KeyUnshare => "key unshare",
            CommandId::KeySetAttribute => "key set-attribute",
            CommandId::UserList => "user list",
            CommandId::UserCreate => "user create",
            CommandId::UserDelete => "user delete",
            CommandId::UserChangePassword => "user change-password",
        }
    }

    /// The identifier of a parsed command.
    pub fn of(command: &Command) -> CommandId {
        match command {
            Command::Interactive(_) => CommandId::Interactive,
            Command::Quit => CommandId::Quit,
            Command::Login(_) => CommandId::Login,
            Command::Logout(_) => CommandId::Logout,
            Command::Cluster(ClusterCommand::Activate(_)) => CommandId::ClusterActivate,
            Command::Cluster(ClusterCommand::HsmInfo(_)) => CommandId::ClusterHsmInfo,
            Command::Key(KeyCommand::List(_)) => CommandId::KeyList,
            Command::Key(KeyCommand::Delete(_)) => CommandId::KeyDelete,
            Command::Key(KeyCommand::Share(_)) => CommandId::KeyShare,
            Command::Key(KeyCommand::Unshare(_)) => CommandId::KeyUnshare,
            Command::Key(KeyCommand::SetAttribute(_)) => CommandId::KeySetAttribute,
            Command::User(UserCommand::List(_)) => CommandId::UserList,
            Command::User(UserCommand::Create(_)) => CommandId::UserCreate,
            Command::User(UserCommand::Delete(_)) => CommandId::UserDelete,
            Command::User(UserCommand::ChangePassword(_)) => CommandId::UserChangePassword,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grammar::Cli;

    /// Every leaf of the clap tree has an id whose name is its path, and vice versa.
    #[test]
    fn ids_cover_the_grammar() {
        fn leaves(cmd: &clap::Command, prefix: &str, out: &mut Vec<String>) {
            let subs: Vec<_> = cmd
                .get_subcommands()
                .filter(|s| s.get_name() != "help")
                .collect();
            if subs.is_empty() {
                out.push(prefix.trim().to_string());
            }
            for s in subs {
                leaves(s, &format!("{prefix} {}", s.get_name()), out);
            }
        }
        let mut paths = Vec::new();
        leaves(&Cli::command_tree(), "", &mut paths);
        let mut names: Vec<String> = CommandId::ALL
            .iter()
            .map(|c| c.name().to_string())
            .collect();
        paths.sort();
        names.sort();
        assert_eq!(paths, names);
    }
}
