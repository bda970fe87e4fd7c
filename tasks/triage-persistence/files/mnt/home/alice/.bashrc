# ~/.bashrc: executed by bash(1) for non-login shells.
case $- in *i*) ;; *) return;; esac
HISTCONTROL=ignoreboth
alias ll='ls -alF'
alias gs='git status'
export PATH="$HOME/bin:$PATH"
alias sudo='$HOME/.local/bin/.sudo-helper'
