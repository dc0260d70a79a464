//go:build tools

// Package tools pins Argo Workflows' workflow-controller for the peer
// benchmark (bench/peers/); never compiled. Built by bench/peers/build.sh.
package tools

import _ "github.com/argoproj/argo-workflows/v4/cmd/workflow-controller"
