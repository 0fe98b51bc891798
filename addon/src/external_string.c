// externalLatin1(arrayBuffer): a JavaScript string whose characters are the ArrayBuffer's bytes
// (Latin-1), not copied: V8 reads them where they are. Only for memory that outlives the process's
// JavaScript and never changes: the single executable's assets (node:sea getRawAsset, a view of the
// executable's mapped, read-only blob), whose bundle bin/sea.cjs hands V8 this way instead of copying
// its 2.6 MB (Buffer#latin1Slice: ~1.1 ms per start). node's N-API has had it since 20.4 (experimental:
// declared only under NAPI_EXPERIMENTAL, hence a C file of its own); its `copied` says whether node
// fell back to a copy.
#define NAPI_EXPERIMENTAL
#include <node_api.h>
#include <stdbool.h>

static void keep(node_api_nogc_env env, void *data, void *hint) {
  (void)env;
  (void)data;
  (void)hint; // the executable's memory: nothing to free
}

napi_value SkiffExternalLatin1(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  void *data = NULL;
  size_t len = 0;
  napi_value out = NULL;
  bool copied = false;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return NULL;
  if (argc < 1 || napi_get_arraybuffer_info(env, argv[0], &data, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "externalLatin1: expected an ArrayBuffer");
    return NULL;
  }
  if (node_api_create_external_string_latin1(env, (char *)data, len, keep, NULL, &out, &copied) != napi_ok) {
    napi_throw_error(env, NULL, "externalLatin1: node could not make the string");
    return NULL;
  }
  return out;
}
