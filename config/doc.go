// Package config reads hotline.yaml: the line (number, greeting, menu,
// languages and their prompts), teams and their escalation chains,
// engineers and rotations, and known customers. Parsing is strict and
// every mistake names its file, line and key (ConfigErrors). A Config is
// read-only once parsed; schedules computes shifts from its rotations.
package config
