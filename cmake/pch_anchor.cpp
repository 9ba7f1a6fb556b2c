// Anchor translation unit of the editgate_pch target: it exists so CMake has a
// source to build the precompiled header with.
namespace editgate { int pch_anchor = 0; }
