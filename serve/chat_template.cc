#include "serve/chat_template.h"

namespace cairn::serve {

std::string ChatTemplateNames() { return "roles, plain"; }

StatusOr<ChatPrompt> ApplyChatTemplate(const std::string& name, const std::vector<ChatMessage>& messages) {
  ChatPrompt p;
  if (name == "roles" || name.empty()) {
    for (const auto& m : messages) {
      const std::string role = m.role == "user" ? "User" : m.role == "assistant" ? "Assistant" : "System";
      p.text += role + ": " + m.content + "\n";
    }
    p.text += "Assistant:";
    p.stops = {"\nUser:", "\nSystem:"};
    return p;
  }
  if (name == "plain") {
    for (size_t i = 0; i < messages.size(); ++i) p.text += (i ? "\n\n" : "") + messages[i].content;
    return p;
  }
  return InvalidArgumentError("chat template '" + name + "' is not one cairn knows (" + ChatTemplateNames() + ")");
}

}  // namespace cairn::serve
