//go:build tools

// Package tools pins kwok's command; never compiled.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
