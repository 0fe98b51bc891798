{
  "targets": [
    {
      "target_name": "skiff_native",
      "sources": [
        "src/native.cc",
        "src/external_string.c",
        "common/rmtree.c",
        "common/state.c",
        "common/jsonfile.c"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-Wall",
        "-Wextra"
      ]
    },
    {
      "target_name": "skiff_layer",
      "sources": [
        "src/inflate.cc",
        "src/layer.cc",
        "src/tar_extract.cc",
        "common/rmtree.c"
      ],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": [
        "NAPI_VERSION=8",
        "NAPI_DISABLE_CPP_EXCEPTIONS"
      ],
      "cflags_cc": [
        "-std=c++17",
        "-O2",
        "-Wall",
        "-Wextra"
      ],
      "libraries": [
        "-lisal"
      ],
      "ldflags": [
        "-Wl,-rpath,'$$ORIGIN'"
      ]
    },
    {
      "target_name": "skiff-shim",
      "type": "executable",
      "sources": [
        "<!@(ls -1 shim/*.c)",
        "common/rmtree.c",
        "common/state.c",
        "common/jsonfile.c"
      ],
      "cflags": [
        "-std=gnu11",
        "-O2",
        "-Wall",
        "-Wextra",
        "-D_GNU_SOURCE"
      ],
      "libraries": [
        "-lseccomp",
        "-ljansson"
      ],
      "ldflags": [
        "-static"
      ]
    },
    {
      "target_name": "skiff-init",
      "type": "executable",
      "sources": [
        "init/init.c"
      ],
      "cflags": [
        "-std=gnu11",
        "-O2",
        "-Wall",
        "-Wextra"
      ],
      "ldflags": [
        "-static"
      ]
    }
  ]
}