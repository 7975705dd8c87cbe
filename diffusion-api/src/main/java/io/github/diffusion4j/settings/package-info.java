/**
 * The switches a process reads from its system properties, parsed one way everywhere: {@link
 * io.github.diffusion4j.settings.SystemSwitch} for the on/off switches of the implementations (the backends'
 * Vector API code and convolution forms, the noise generator's vector fill). The bottom of the api: every other
 * package may use it, it uses only the JDK.
 */
package io.github.diffusion4j.settings;
