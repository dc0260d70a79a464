module runbook.dev/test/proxy

go 1.26
