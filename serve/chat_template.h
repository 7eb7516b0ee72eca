// How chat messages become a prompt for cairn's text models, which are
// byte-level language models with no chat tokens of their own. A model
// names its template at export (`output.chat_template` in the training
// spec, stored in cairn_meta()); "roles" is the default.
//
//   roles   each message as "<Role>: <content>\n" (System, User, Assistant;
//           a developer message counts as System), then "Assistant:" for
//           the model to continue. The reply ends at the next "\nUser:" or
//           "\nSystem:" (added to the request's stop sequences), and the
//           space after "Assistant:" is not part of it. It suits text
//           written as dialogue ("ROMEO:\n...").
//   plain   the contents joined by blank lines; the model continues the
//           text. No stop sequences are added.
// Thread safety: pure functions.
#ifndef CAIRN_SERVE_CHAT_TEMPLATE_H_
#define CAIRN_SERVE_CHAT_TEMPLATE_H_

#include <string>
#include <vector>

#include "runtime/base/statusor.h"

namespace cairn::serve {

struct ChatMessage {
  std::string role;  // system | developer | user | assistant
  std::string content;
};

struct ChatPrompt {
  std::string text;
  std::vector<std::string> stops;  // ends of the reply the template implies
};

// InvalidArgument for a template name cairn does not know.
StatusOr<ChatPrompt> ApplyChatTemplate(const std::string& name, const std::vector<ChatMessage>& messages);
// "roles, plain".
std::string ChatTemplateNames();

}  // namespace cairn::serve

#endif  // CAIRN_SERVE_CHAT_TEMPLATE_H_
