//===- SchemaConsumer.h - the plugin's AST consumer, for other tools -*- C++ -*-===//
//
// The consumer PluginAction.cpp runs in every compilation: it checks
// persistent types and roots (the same diagnostics), builds their schema and
// redirects allocations. checksync-schema (schema-tool/) runs it without code
// generation to report the schema before and without a build.
//
//===----------------------------------------------------------------------===//
#ifndef CHECKSYNC_PLUGIN_SCHEMACONSUMER_H
#define CHECKSYNC_PLUGIN_SCHEMACONSUMER_H

#include "Schema.h"

#include "clang/AST/ASTConsumer.h"

#include <memory>

namespace checksync::plugin {

/// Fills \p S with the translation unit's persistent types and roots.
std::unique_ptr<clang::ASTConsumer> createSchemaConsumer(std::shared_ptr<Schema> S);

} // namespace checksync::plugin

#endif
