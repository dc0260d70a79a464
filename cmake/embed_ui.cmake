# Embeds the web UI (every file of ui/) into the operator binary.
#
#   include(cmake/embed_ui.cmake)
#   rb_embed_ui(${CMAKE_BINARY_DIR}/ui_assets.c)   # a path (relative: to the current binary dir)
#   target_sources(runbook PRIVATE ${CMAKE_BINARY_DIR}/ui_assets.c)
#
# rb_embed_ui(OUT_C) adds a build step that writes OUT_C, a C file with one
# static array per file and the table src/ui/ui_assets.h declares:
#
#   const struct ui_asset ui_assets[] = {{"/index.html", "text/html; charset=utf-8", a0, sizeof a0, "\"<etag>\""}, ...};
#   const size_t ui_n_assets = N;
#
# index.html is served at /index.html, every other file at /assets/NAME; the
# ETag is the first 16 hex digits of the file's SHA-256, quoted. The step runs
# again when a file of ui/ changes, and (through the CONFIGURE_DEPENDS glob)
# when one is added or removed. Only files with a known type are embedded
# (.html .js .css .svg .png .json), so an editor's backup file is not served.
#
# The generator is this same file run as a CMake script (cmake -P): no tool
# beyond CMake itself (xxd is not in the image's build stage, and its output
# would need rewriting anyway: non-static, non-const arrays and an unsigned
# int length per file, names derived from paths).

set(RB_EMBED_UI_SCRIPT ${CMAKE_CURRENT_LIST_FILE})
set(RB_UI_PATTERNS *.html *.js *.css *.svg *.png *.json)

function(rb_embed_ui OUT_C)
  set(ui_dir ${CMAKE_SOURCE_DIR}/ui)
  set(out ${OUT_C})
  if(NOT IS_ABSOLUTE "${out}")
    set(out ${CMAKE_CURRENT_BINARY_DIR}/${out})
  endif()
  set(globs "")
  foreach(p ${RB_UI_PATTERNS})
    list(APPEND globs ${ui_dir}/${p})
  endforeach()
  file(GLOB files CONFIGURE_DEPENDS ${globs})
  list(SORT files)
  if(NOT files)
    message(FATAL_ERROR "rb_embed_ui: no file to embed in ${ui_dir}")
  endif()
  # The list of files, rewritten only when it changes: a file removed from
  # ui/ touches it, so the C file is made again without that file.
  set(list_file ${out}.files)
  string(JOIN "\n" content ${files})
  set(old "")
  if(EXISTS ${list_file})
    file(READ ${list_file} old)
  endif()
  if(NOT old STREQUAL "${content}\n")
    file(WRITE ${list_file} "${content}\n")
  endif()
  add_custom_command(OUTPUT ${out}
    COMMAND ${CMAKE_COMMAND} -DRB_UI_LIST=${list_file} -DRB_UI_OUT=${out} -P ${RB_EMBED_UI_SCRIPT}
    DEPENDS ${files} ${list_file} ${RB_EMBED_UI_SCRIPT}
    COMMENT "Embedding ui/ into ${out}"
    VERBATIM)
endfunction()

# --- script mode: cmake -DRB_UI_LIST=FILE -DRB_UI_OUT=OUT_C -P embed_ui.cmake ------
if(NOT DEFINED RB_UI_OUT)
  return()
endif()

file(STRINGS ${RB_UI_LIST} files)
if(NOT files)
  message(FATAL_ERROR "embed_ui: ${RB_UI_LIST} names no file")
endif()
# index.html first: the server may look it up as the first entry.
set(index ${files})
list(FILTER index INCLUDE REGEX "/index\\.html$")
list(FILTER files EXCLUDE REGEX "/index\\.html$")
list(PREPEND files ${index})

set(c "#include \"ui/ui_assets.h\"\n/* generated from ui/ by cmake/embed_ui.cmake: do not edit */\n")
set(table "")
set(i 0)
foreach(f ${files})
  get_filename_component(name ${f} NAME)
  if(NOT name MATCHES "^[A-Za-z0-9_][A-Za-z0-9._-]*$")
    message(FATAL_ERROR "embed_ui: ${f}: a file name of ui/ must be letters, digits, '.', '_' and '-'")
  endif()
  string(REGEX MATCH "[^.]*$" ext "${name}")
  string(TOLOWER "${ext}" ext)
  if(ext STREQUAL "html")
    set(type "text/html; charset=utf-8")
  elseif(ext STREQUAL "js")
    set(type "text/javascript; charset=utf-8")
  elseif(ext STREQUAL "css")
    set(type "text/css; charset=utf-8")
  elseif(ext STREQUAL "svg")
    set(type "image/svg+xml")
  elseif(ext STREQUAL "png")
    set(type "image/png")
  elseif(ext STREQUAL "json")
    set(type "application/json")
  else()
    message(FATAL_ERROR "embed_ui: ${f}: no content type for .${ext}")
  endif()
  if(name STREQUAL "index.html")
    set(path "/index.html")
  else()
    set(path "/assets/${name}")
  endif()
  file(SHA256 ${f} sum)
  string(SUBSTRING "${sum}" 0 16 etag)
  file(READ ${f} hex HEX)
  string(LENGTH "${hex}" n)
  math(EXPR len "${n} / 2")
  if(len EQUAL 0)
    # C has no empty array: one zero byte, length 0.
    string(APPEND c "static const unsigned char a${i}[1] = {0};\n")
    set(size "0")
  else()
    # 0xNN, twelve to a line.
    string(REGEX REPLACE "(..)" "0x\\1," bytes "${hex}")
    string(REGEX REPLACE "(0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,0x..,)" "\\1\n  " bytes "${bytes}")
    string(REGEX REPLACE ",(\n  )?$" "" bytes "${bytes}")
    string(APPEND c "static const unsigned char a${i}[] = {\n  ${bytes}\n};\n")
    set(size "sizeof a${i}")
  endif()
  string(APPEND table "  {\"${path}\", \"${type}\", a${i}, ${size}, \"\\\"${etag}\\\"\"},\n")
  math(EXPR i "${i} + 1")
endforeach()
string(APPEND c "const struct ui_asset ui_assets[] = {\n${table}};\nconst size_t ui_n_assets = ${i};\n")
file(WRITE ${RB_UI_OUT}.tmp "${c}")
file(RENAME ${RB_UI_OUT}.tmp ${RB_UI_OUT})
