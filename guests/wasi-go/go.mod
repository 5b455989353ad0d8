module tern.dev/guests/wasi-go

go 1.21
