module github.com/pyreplay/pyreplay

go 1.26.8

require (
	github.com/mattn/go-sqlite3 v1.14.53
	github.com/smacker/go-tree-sitter v0.0.0-20240827094217-dd81d9e9be82
	github.com/spf13/cobra v1.10.2
)

require (
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
)
