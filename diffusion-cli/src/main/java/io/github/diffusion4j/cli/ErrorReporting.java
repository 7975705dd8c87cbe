package io.github.diffusion4j.cli;

import java.io.FileNotFoundException;
import java.nio.file.AccessDeniedException;
import java.nio.file.NoSuchFileException;

/** Maps exceptions to one-line messages and exit codes. */
final class ErrorReporting {
  private ErrorReporting() {}

  static int exitCode(Throwable e) {
    return isBadInput(e) ? DiffusionCli.BAD_INPUT : DiffusionCli.FAILURE;
  }

  static boolean isBadInput(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      String n = t.getClass().getName();
      if (t instanceof BadInputException
          || t instanceof io.github.diffusion4j.config.ConfigException
          || n.equals("io.github.diffusion4j.io.CheckpointException")
          || t instanceof io.github.diffusion4j.data.DataFileException
          || t instanceof NoSuchFileException
          || t instanceof FileNotFoundException
          || t instanceof AccessDeniedException) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  }

  static String message(Throwable e) {
    Throwable t = e;
    while (t.getMessage() == null && t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    if (t instanceof NoSuchFileException nf) {
      return nf.getFile() + ": no such file or directory";
    }
    if (t instanceof AccessDeniedException ad) {
      return ad.getFile() + ": permission denied";
    }
    String m = t.getMessage();
    return oneLine(m == null ? t.getClass().getSimpleName() : m);
  }

  static String oneLine(String m) {
    return m.replace("\r", " ").replace('\n', ' ').trim();
  }
}
