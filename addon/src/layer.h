// The layer pipeline class exported by skiff_layer (layer.cc).
#pragma once
#include <napi.h>

namespace skiff {
Napi::Function DefineLayer(Napi::Env env);
}
